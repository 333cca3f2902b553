//! Calling a `#[rpc]` method by its declaration: `add::call(&client, 1, 2)`.
//!
//! The macro gives each method's marker type `call` and `call_with` functions whose
//! arguments are the method's parameters. They go through [`TypedCall`], whose bounds
//! (the parameters serialize, the result deserializes) are checked where a typed call
//! is made, not where the method is declared: a method whose parameter types are only
//! `Deserialize` still compiles, and only calling it typed asks for `Serialize`.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::{CallOptions, Client, ClientStreamCall, Context, Error, Peer, Response, StreamSender, Streaming};

/// What can make calls: a [`Client`], its [`Peer`], or a handler's [`Context`] (a
/// server calling methods its client serves).
pub trait AsPeer {
    /// The connection's peer.
    fn as_peer(&self) -> &Peer;
}

impl AsPeer for Peer {
    fn as_peer(&self) -> &Peer {
        self
    }
}

impl AsPeer for Client {
    fn as_peer(&self) -> &Peer {
        self.peer()
    }
}

impl AsPeer for Context {
    fn as_peer(&self) -> &Peer {
        self.peer()
    }
}

/// A method's parameters as a tuple, written as the params object by wire name.
pub trait Fields {
    /// How many parameters there are.
    const LEN: usize;
    /// Writes each value under its name.
    fn write<M: SerializeMap>(&self, names: &[&str], map: &mut M) -> Result<(), M::Error>;
}

macro_rules! tuple_fields {
    ($len:literal $(, $t:ident $i:tt)*) => {
        impl<$($t: Serialize),*> Fields for ($($t,)*) {
            const LEN: usize = $len;
            #[allow(unused_variables)]
            fn write<M: SerializeMap>(&self, names: &[&str], map: &mut M) -> Result<(), M::Error> {
                $(map.serialize_entry(names[$i], &self.$i)?;)*
                Ok(())
            }
        }
    };
}

tuple_fields!(0);
tuple_fields!(1, A 0);
tuple_fields!(2, A 0, B 1);
tuple_fields!(3, A 0, B 1, C 2);
tuple_fields!(4, A 0, B 1, C 2, D 3);
tuple_fields!(5, A 0, B 1, C 2, D 3, E 4);
tuple_fields!(6, A 0, B 1, C 2, D 3, E 4, F 5);
tuple_fields!(7, A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_fields!(8, A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_fields!(9, A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_fields!(10, A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_fields!(11, A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_fields!(12, A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// The params object of a typed call.
pub struct Params<'a, F> {
    names: &'static [&'static str],
    fields: &'a F,
}

impl<F: Fields> Serialize for Params<'_, F> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(F::LEN))?;
        self.fields.write(self.names, &mut map)?;
        map.end()
    }
}

/// A typed call of each shape: parameters `F` (a tuple), items sent `I`, result or
/// items received `T`. Implemented for everything [`AsPeer`].
pub trait TypedCall<F, I, T> {
    /// A unary call.
    fn unary(
        &self,
        method: &'static str,
        names: &'static [&'static str],
        fields: F,
        options: CallOptions,
    ) -> impl Future<Output = Result<Response<T>, Error>> + Send;
    /// A server-streaming call.
    fn server_stream(&self, method: &'static str, names: &'static [&'static str], fields: F, options: CallOptions) -> Result<Streaming<T>, Error>;
    /// A client-streaming call.
    fn client_stream(
        &self,
        method: &'static str,
        names: &'static [&'static str],
        fields: F,
        options: CallOptions,
    ) -> Result<ClientStreamCall<I, T>, Error>;
    /// A bidirectional call.
    fn bidi_stream(
        &self,
        method: &'static str,
        names: &'static [&'static str],
        fields: F,
        options: CallOptions,
    ) -> Result<(StreamSender<I>, Streaming<T>), Error>;
}

impl<P, F, I, T> TypedCall<F, I, T> for P
where
    P: AsPeer + Sync,
    F: Fields + Send + Sync,
    I: Serialize,
    T: DeserializeOwned + Send,
{
    fn unary(
        &self,
        method: &'static str,
        names: &'static [&'static str],
        fields: F,
        options: CallOptions,
    ) -> impl Future<Output = Result<Response<T>, Error>> + Send {
        async move { self.as_peer().call_with(method, &Params { names, fields: &fields }, options).await }
    }

    fn server_stream(&self, method: &'static str, names: &'static [&'static str], fields: F, options: CallOptions) -> Result<Streaming<T>, Error> {
        self.as_peer().server_stream(method, &Params { names, fields: &fields }, options)
    }

    fn client_stream(
        &self,
        method: &'static str,
        names: &'static [&'static str],
        fields: F,
        options: CallOptions,
    ) -> Result<ClientStreamCall<I, T>, Error> {
        self.as_peer().client_stream(method, &Params { names, fields: &fields }, options)
    }

    fn bidi_stream(
        &self,
        method: &'static str,
        names: &'static [&'static str],
        fields: F,
        options: CallOptions,
    ) -> Result<(StreamSender<I>, Streaming<T>), Error> {
        self.as_peer().bidi_stream(method, &Params { names, fields: &fields }, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_an_object_by_wire_name() {
        let fields = (1i64, "x".to_string(), vec![true]);
        let json = serde_json::to_value(Params { names: &["a", "from", "flags"], fields: &fields }).unwrap();
        assert_eq!(json, serde_json::json!({"a": 1, "from": "x", "flags": [true]}));
        assert_eq!(serde_json::to_value(Params { names: &[], fields: &() }).unwrap(), serde_json::json!({}));
    }
}

//! Shared application state handed to handlers without globals.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use crate::{Context, Error};

/// Application state of type `T`, registered once with [`crate::Router::with_state`] and
/// shared by every call: a database pool, a cache, a configuration.
///
/// ```ignore
/// #[rpc]
/// async fn user(db: State<Db>, id: u64) -> Option<User> { db.find(id).await }
/// ```
pub struct State<T: ?Sized>(pub Arc<T>);

impl<T: Send + Sync + 'static> State<T> {
    /// Looks the state up in a call's context. Fails with an `INTERNAL` error naming the
    /// type when the router was not given a value of it.
    pub fn from_context(ctx: &Context) -> Result<Self, Error> {
        ctx.state_map().get::<T>().map(State).ok_or_else(|| {
            Error::internal(format!(
                "no state of type `{}` was registered; add it with Router::with_state",
                std::any::type_name::<T>()
            ))
        })
    }
}

impl<T: ?Sized> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

/// Values by type.
#[derive(Default, Clone)]
pub(crate) struct StateMap(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl StateMap {
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Arc::new(value));
    }

    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.0.get(&TypeId::of::<T>()).cloned().and_then(|a| a.downcast::<T>().ok())
    }

    pub fn extend(&mut self, other: &StateMap) {
        for (k, v) in &other.0 {
            self.0.entry(*k).or_insert_with(|| v.clone());
        }
    }
}

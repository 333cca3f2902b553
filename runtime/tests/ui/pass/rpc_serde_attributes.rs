//! serde's field attributes on parameters, including those that change what serde asks
//! of the type, compile as they would on a struct.

use volley::{rpc, Router};

/// Not `Default`, and not `Deserialize` either: it is read through `deserialize_with`.
pub struct Cursor(pub u64);

fn cursor<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Cursor, D::Error> {
    let n: u64 = serde::Deserialize::deserialize(d)?;
    Ok(Cursor(n))
}

#[rpc]
async fn page(
    #[serde(rename = "userId")] user_id: u64,
    #[serde(default)] limit: u32,
    #[serde(deserialize_with = "cursor")]
    #[schemars(with = "u64")]
    after: Cursor,
) -> (u64, u32, u64) {
    (user_id, limit, after.0)
}

fn main() {
    let _ = Router::new().rpc::<page>();
}

use volley::{rpc, Streaming};

#[rpc]
async fn zip(left: Streaming<i64>, right: Streaming<i64>) -> i64 {
    let _ = (left, right);
    0
}

fn main() {}

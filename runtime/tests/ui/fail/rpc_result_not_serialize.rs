use volley::rpc;

struct Sum(i64);

#[rpc]
async fn add(a: i64, b: i64) -> Sum {
    Sum(a + b)
}

fn main() {}

use volley::rpc;

struct Calculator;

impl Calculator {
    #[rpc]
    async fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}

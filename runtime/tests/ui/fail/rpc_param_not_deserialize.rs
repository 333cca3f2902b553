use volley::rpc;

struct Point {
    x: i64,
}

#[rpc]
async fn norm(point: Point) -> i64 {
    point.x.abs()
}

fn main() {}

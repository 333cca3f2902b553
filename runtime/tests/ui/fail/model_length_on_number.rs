use volley::model;

#[model]
struct Order {
    #[validate(length(max = 10))]
    quantity: u32,
}

fn main() {}

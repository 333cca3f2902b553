use volley::model;

#[model]
struct Signup {
    #[validate(range(min = 1, max = 10))]
    name: String,
}

fn main() {}

use volley::model;

#[model]
struct Signup {
    #[validate(lenght(max = 32))]
    name: String,
}

fn main() {}

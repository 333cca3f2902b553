use volley::model;

#[model]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}

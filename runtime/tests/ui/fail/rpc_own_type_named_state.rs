use volley::rpc;

/// The user's own type, which happens to be called `State`.
#[volley::model]
pub enum State {
    Open,
    Closed,
}

// Without `#[param]`, a type named `State` is taken for volley's.
#[rpc]
async fn set(state: State) -> bool {
    matches!(state, State::Open)
}

fn main() {}

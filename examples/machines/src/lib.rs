//! The volley state-machine example: two machines, each connection with its own session
//! of both.
//!
//! - `light`, a traffic light: `red` (where a session starts) -> `green` -> `yellow` ->
//!   `red`, one event in each state to go on; `green` also answers `ping` with a data
//!   event and no transition, and has `skip`, which tries to jump straight to `red` and
//!   is refused (`red` is not one of `green`'s targets).
//! - `login`, a login flow: `logged_out` accepts `login`; a wrong password is answered
//!   with a data event (401 and the attempts left), the third in a row locks the
//!   session (`locked`, which only `unlock` with the code leaves); a right one moves to
//!   `logged_in`, carrying the profile, where `whoami` answers and `logout` goes back.
//!
//! The server also answers `GET /health` with `OK`, as automata-ws's endpoints do.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use volley::machine::{Machine, Session, State, Status};
use volley::{model, Error, ErrorCode, Router};

/// How long a light stays green.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Green {
    /// Seconds until it turns yellow.
    pub seconds: u32,
}

/// The data of `light.go`.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Go {
    /// How long to stay green, in seconds (at most 120).
    pub seconds: u32,
}

/// What a data event of the light says.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Pong {
    /// How many pings this session has had.
    pub pings: u32,
}

/// The red light: cars wait. Where every session starts.
pub const RED: State = State::new("red");
/// The green light.
pub const GREEN: State<Green> = State::new("green");
/// The yellow light.
pub const YELLOW: State = State::new("yellow");

/// The traffic light machine.
pub fn light() -> Machine<Pong> {
    let pings = Arc::new(AtomicU32::new(0));
    Machine::new("light", "A traffic light: red, green, yellow, and red again.")
        .transmits::<Pong>()
        .state(RED, "Cars wait.", |s| {
            s.targets([GREEN.name()]).event("go", "Turns green for `seconds` (at most 120).", |session: Session<Pong>, go: Go| async move {
                if go.seconds == 0 || go.seconds > 120 {
                    return Err(Error::new(ErrorCode::INVALID_PARAMS, format!("a light stays green for 1 to 120 seconds, not {}", go.seconds)));
                }
                session.transition(&GREEN, Status::OK, Green { seconds: go.seconds }).await?;
                Ok(go.seconds)
            })
        })
        .state(GREEN, "Cars go; `seconds` says for how long.", move |s| {
            s.targets([YELLOW.name()])
                .event("slow", "Turns yellow.", |session: Session<Pong>, (): ()| async move { session.transition(&YELLOW, Status::OK, ()).await })
                .event("ping", "Answers with a data event counting this session's pings; no transition.", move |session: Session<Pong>, (): ()| {
                    let pings = pings.clone();
                    async move {
                        let n = pings.fetch_add(1, Ordering::Relaxed) + 1;
                        session.transmit(Status::OK, Pong { pings: n }).await?;
                        Ok(n)
                    }
                })
                .event("skip", "Tries to turn red at once, which a green light may not do: refused with TRANSITION_NOT_ALLOWED.", |session: Session<Pong>, (): ()| async move {
                    session.transition(&RED, Status::OK, ()).await
                })
        })
        .state(YELLOW, "Cars stop if they can.", |s| {
            s.targets([RED.name()]).event("stop", "Turns red.", |session: Session<Pong>, (): ()| async move { session.transition(&RED, Status::OK, ()).await })
        })
}

/// Who is logged in.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The user's name.
    pub user: String,
    /// A greeting for them.
    pub greeting: String,
}

/// The data of `login.login`.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    /// The user's name.
    pub user: String,
    /// Their password (`"volley"` for everyone in this example).
    pub password: String,
}

/// Why the session is locked.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Locked {
    /// Failed attempts that locked it.
    pub attempts: u32,
}

/// The data of `login.unlock`.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Unlock {
    /// The unlock code (`"1234"` in this example).
    pub code: String,
}

/// What a data event of the login flow says.
#[model]
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    /// What went wrong.
    pub message: String,
    /// Attempts left before the session locks.
    pub attempts_left: u32,
}

/// Not logged in: where every session starts.
pub const LOGGED_OUT: State = State::new("logged_out");
/// Logged in, with the profile.
pub const LOGGED_IN: State<Profile> = State::new("logged_in");
/// Locked after too many wrong passwords.
pub const LOCKED: State<Locked> = State::new("locked");

/// Wrong passwords in a row that lock a session.
pub const MAX_ATTEMPTS: u32 = 3;

/// The login machine. Failed attempts are counted per connection (its extension).
pub fn login() -> Machine<Hint> {
    Machine::new("login", "A login flow: three wrong passwords in a row lock the session.")
        .transmits::<Hint>()
        .state(LOGGED_OUT, "Nobody is logged in.", |s| {
            s.targets([LOGGED_IN.name(), LOCKED.name()]).event("login", "Logs in; a wrong password is answered with a 401 data event.", |session: Session<Hint>, c: Credentials| async move {
                let failures = session.connection().extensions.lock().unwrap().get::<Failures>().map_or(0, |f| f.0);
                if c.password == "volley" {
                    {
                        let mut ext = session.connection().extensions.lock().unwrap();
                        ext.insert(Failures(0));
                        ext.insert(User(c.user.clone()));
                    }
                    let greeting = format!("welcome, {}", c.user);
                    session.transition(&LOGGED_IN, Status::OK, Profile { user: c.user, greeting }).await?;
                    return Ok(true);
                }
                let failures = failures + 1;
                session.connection().extensions.lock().unwrap().insert(Failures(failures));
                if failures >= MAX_ATTEMPTS {
                    session.transition(&LOCKED, Status::FORBIDDEN, Locked { attempts: failures }).await?;
                } else {
                    let hint = Hint { message: format!("wrong password for {}", c.user), attempts_left: MAX_ATTEMPTS - failures };
                    session.transmit(Status::UNAUTHORIZED, hint).await?;
                }
                Ok(false)
            })
        })
        .state(LOGGED_IN, "A user is logged in; `data` is their profile.", |s| {
            s.targets([LOGGED_OUT.name()])
                .event("whoami", "The user logged in on this connection.", |session: Session<Hint>, (): ()| async move {
                    Ok(session.connection().extensions.lock().unwrap().get::<User>().map(|u| u.0.clone()).unwrap_or_default())
                })
                .event("logout", "Logs out.", |session: Session<Hint>, (): ()| async move { session.transition(&LOGGED_OUT, Status::OK, ()).await })
        })
        .state(LOCKED, "Too many wrong passwords; `data` says how many.", |s| {
            s.targets([LOGGED_OUT.name()]).event("unlock", "Unlocks with the code; a wrong code is refused (PERMISSION_DENIED).", |session: Session<Hint>, u: Unlock| async move {
                if u.code != "1234" {
                    return Err(Error::new(ErrorCode::PERMISSION_DENIED, "wrong unlock code"));
                }
                session.connection().extensions.lock().unwrap().insert(Failures(0));
                session.transition(&LOGGED_OUT, Status::OK, ()).await
            })
        })
}

/// Wrong passwords in a row on a connection.
#[derive(Debug, Clone, Copy)]
struct Failures(u32);

/// The user logged in on a connection.
#[derive(Debug, Clone)]
struct User(String);

/// Both machines on one router.
pub fn router() -> Router {
    Router::new().named("machines", env!("CARGO_PKG_VERSION"), "A traffic light and a login flow, one session of each per connection.").machine(light()).machine(login())
}

/// The server: the router and `GET /health`.
pub fn server() -> volley::Server {
    volley::Server::new(router()).route("/health", volley::axum::routing::get(|| async { "OK" }))
}

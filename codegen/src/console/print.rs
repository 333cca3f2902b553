//! Output while a line may be being typed: notifications and warnings go through the
//! line editor's external printer, which prints them above the prompt and draws the
//! prompt and the half-typed line again; and the terminal's settings, restored when the
//! server goes away in the middle of a line.

use std::sync::{Arc, Mutex};

/// Where the console prints: the line editor's printer on a terminal, stdout otherwise.
#[derive(Clone)]
pub struct Out(Arc<Mutex<Option<Box<dyn rustyline::ExternalPrinter + Send>>>>);

impl Out {
    /// Prints through `printer`, or on stdout when there is none (not a terminal).
    pub fn new(printer: Option<Box<dyn rustyline::ExternalPrinter + Send>>) -> Out {
        Out(Arc::new(Mutex::new(printer)))
    }

    /// Prints `text` and a line break.
    pub fn line(&self, text: String) {
        let mut printer = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let text = format!("{text}\n");
        match printer.as_mut() {
            Some(p) => {
                if p.print(text.clone()).is_err() {
                    print!("{text}");
                }
            }
            None => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        }
    }
}

/// The terminal's settings as they were when the console started.
#[derive(Clone, Copy)]
pub struct Terminal(#[cfg(unix)] Option<libc::termios>);

impl Terminal {
    /// Saves stdin's terminal settings, if it is a terminal.
    pub fn save() -> Terminal {
        #[cfg(unix)]
        {
            // SAFETY: tcgetattr writes a termios struct for fd 0; a failure leaves none.
            unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                if libc::isatty(0) == 1 && libc::tcgetattr(0, &mut t) == 0 {
                    return Terminal(Some(t));
                }
            }
            Terminal(None)
        }
        #[cfg(not(unix))]
        Terminal()
    }

    /// Puts them back (before leaving in the middle of reading a line).
    pub fn restore(&self) {
        #[cfg(unix)]
        if let Some(t) = &self.0 {
            // SAFETY: the settings were read from the same descriptor.
            unsafe {
                libc::tcsetattr(0, libc::TCSADRAIN, t);
            }
        }
    }
}

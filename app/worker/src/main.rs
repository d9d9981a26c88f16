//! `cinder-worker`: the provider / verifier daemon (see [`cinder_worker::daemon`]).
fn main() -> std::process::ExitCode {
    cinder_worker::daemon::main(std::env::args_os())
}

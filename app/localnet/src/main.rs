//! `cinder-localnet`: the local cluster (see [`cinder_localnet::cli`]).
fn main() -> std::process::ExitCode {
    cinder_localnet::cli::main(std::env::args_os())
}

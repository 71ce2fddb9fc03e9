fn main() -> std::process::ExitCode {
    zhijian::cli::main()
}

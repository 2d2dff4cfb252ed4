#if HOPGATE_FUZZ
/// libFuzzer's own driver, called from our `main` (a Swift executable has a `main` of its own,
/// so libFuzzer's is not linked). Exists only in the fuzzing build (`scripts/fuzz`), where
/// `--sanitize=fuzzer` links the libFuzzer runtime.
enum LibFuzzer {
    typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

    static func run(_ check: @escaping ([UInt8]) -> Void) -> Int32 {
        Self.check = check
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            LibFuzzer.check?(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        }
    }

    /// libFuzzer calls a C function pointer, which cannot capture; it runs inputs on one thread.
    nonisolated(unsafe) private static var check: (([UInt8]) -> Void)?
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: LibFuzzer.TestOneInput
) -> Int32
#endif

#if HOPGATE_FUZZ
/// libFuzzer's entry point, in the fuzzing build only (`scripts/fuzz`): `--sanitize=fuzzer` links
/// libFuzzer's own `main`, which calls this with each input.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    ExchangeMessageFuzzTarget.check(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#endif

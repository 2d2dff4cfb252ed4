// hopgate-fuzz: fuzzes what the server makes of a tunnel client's exchange messages.
//
//   scripts/fuzz [SECONDS] exchange       libFuzzer, for a bounded time (a build with
//                                         --sanitize=fuzzer and -DHOPGATE_FUZZ)
//   hopgate-fuzz FILE...                  replays inputs (a crash found earlier) in any build
//
// Each input is one `ExchangeFromClient` message in protobuf bytes; see ExchangeMessageFuzzTarget.
import Foundation

#if !HOPGATE_FUZZ
/// The replayer. The fuzzing build has no `main` of its own: libFuzzer's calls
/// `LLVMFuzzerTestOneInput` (LibFuzzer.swift).
@main
enum HopGateFuzzCommand {
    static func main() {
        let files = CommandLine.arguments.dropFirst()
        guard !files.isEmpty else {
            FileHandle.standardError.write(Data("usage: hopgate-fuzz FILE... (libFuzzer itself: scripts/fuzz)\n".utf8))
            exit(2)
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("hopgate-fuzz: cannot read \(file)\n".utf8))
                exit(2)
            }
            let outcome = ExchangeMessageFuzzTarget.check(Array(data))
            print("\(file) (\(data.count) bytes): \(outcome); no property violated")
        }
    }
}
#endif

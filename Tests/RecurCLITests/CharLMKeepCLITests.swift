import Foundation
import Testing

@Suite("recur charlm --keep (CLI)", .serialized)
struct CharLMKeepCLITests {
    @Test("--keep N keeps the newest N model checkpoints; sample --model FILE uses one of them")
    func keepCheckpoints() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("keep")
        let r = try Recur.run(
            [
                "charlm", "train", "--data", data, "--out", out, "--steps", "12",
                "--checkpoint-every", "3", "--keep", "2",
            ]
                + CharLMCLITests.small)
        #expect(r.status == 0, "\(r.stderr)")
        let models = try FileManager.default.contentsOfDirectory(atPath: out).filter {
            $0.hasPrefix("model-")
        }.sorted()
        #expect(models == ["model-00000009.safetensors", "model-00000012.safetensors"])
        let older = try Recur.run([
            "charlm", "sample", "--model", out + "/model-00000009.safetensors", "--length", "30",
            "--seed", "2",
        ])
        let newest = try Recur.run([
            "charlm", "sample", "--model", out, "--length", "30", "--seed", "2",
        ])
        let newestFile = try Recur.run([
            "charlm", "sample", "--model", out + "/model-00000012.safetensors", "--length", "30",
            "--seed", "2",
        ])
        #expect(older.status == 0 && newest.status == 0, "\(older.stderr)\(newest.stderr)")
        #expect(newest.stdout == newestFile.stdout)
        #expect(older.stdout != newest.stdout)
        expectCleanFailure(
            try Recur.run(["charlm", "sample", "--model", out + "/model-00000003.safetensors"]),
            "no such checkpoint file")
    }
}

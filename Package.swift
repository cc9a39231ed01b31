// swift-tools-version: 6.1
// Recur: recurrent sequence models, word2vec and seq2seq on one compact CPU tensor core.

import Foundation
import PackageDescription

// MARK: - Code generation for the build machine

/// The CPU that Swift code generation targets.
///
/// Recur's element-wise kernels are written with Swift's `SIMD16<Float>`; compiled for the
/// x86-64 baseline (SSE2) they run 2–4× slower than with AVX2/AVX-512, and Swift has no
/// per-function target attribute to dispatch at run time. Like any numeric code built from
/// source, Recur therefore builds for the machine it is built on: the manifest reads
/// `/proc/cpuinfo` and picks the matching LLVM CPU. `RECUR_TARGET_CPU=generic` (or any LLVM CPU
/// name) overrides it, for example to build a portable binary.
func hostTargetCPU() -> String? {
    if let forced = Context.environment["RECUR_TARGET_CPU"], !forced.isEmpty {
        return forced == "generic" ? nil : forced
    }
    #if arch(x86_64)
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) {
            return "skylake-avx512"
        }
        if ["avx2", "fma", "bmi2"].allSatisfy(flags.contains) { return "haswell" }
        if flags.contains("avx") { return "sandybridge" }
        return nil
    #else
        return nil
    #endif
}

// MARK: - Root build or dependency

/// True when SwiftPM evaluates this manifest as another package's dependency fetched by URL: it
/// checks dependencies out into a directory named `checkouts` (`.build/checkouts/recur`, Xcode's
/// `SourcePackages/checkouts/recur`).
///
/// SwiftPM refuses `unsafeFlags` in such a dependency, so there the manifest uses only safe
/// settings (see "Use Recur from your package" in the README). `RECUR_DEPENDENCY_BUILD=1` / `0`
/// overrides the guess.
let isDependencyCheckout: Bool = {
    switch Context.environment["RECUR_DEPENDENCY_BUILD"] {
    case "1": return true
    case "0": return false
    default:
        return URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
            .lastPathComponent == "checkouts"
    }
}()

/// The CPU the code is compiled for.
///
/// A root build compiles for the build machine. A dependency cannot pass `-target-cpu` itself: it
/// compiles for the CPU named by `RECUR_TARGET_CPU` (the consumer passes the same name with
/// `-Xswiftc -target-cpu -Xswiftc NAME`), otherwise for the x86-64 or arm64 baseline.
let targetCPU: String? = {
    guard isDependencyCheckout else { return hostTargetCPU() }
    switch Context.environment["RECUR_TARGET_CPU"] {
    case nil, "", "generic": return nil
    case let cpu?: return cpu
    }
}()

let optimization: [SwiftSetting] = {
    var settings: [SwiftSetting] = []
    if let cpu = targetCPU {
        // Every CPU the manifest picks above SSE has FMA except Sandy Bridge.
        if cpu != "sandybridge" {
            settings.append(.define("RECUR_FMA", .when(configuration: .release)))
        }
        if cpu == "skylake-avx512" {
            settings.append(.define("RECUR_AVX512", .when(configuration: .release)))
        }
    }
    if isDependencyCheckout { return settings }
    // Root builds: whole-program inlining across Recur's modules and code for this CPU.
    var flags = ["-cross-module-optimization"]
    if let cpu = targetCPU { flags += ["-target-cpu", cpu] }
    return settings + [.unsafeFlags(flags, .when(configuration: .release))]
}()

let package = Package(
    name: "Recur",
    // Linux only (x86-64, Debian with Swift 6.1+, where it is built and tested): the code calls
    // Glibc, reads /proc and links the system's OpenBLAS and utf8proc. SwiftPM has no way to
    // declare a Linux-only package, so no Apple platform is named here.
    products: [
        .executable(name: "recur", targets: ["RecurCLI"]),
        .library(name: "RecurBase", targets: ["RecurBase"]),
        .library(name: "RecurTensor", targets: ["RecurTensor"]),
        .library(name: "RecurText", targets: ["RecurText"]),
        .library(name: "RecurNN", targets: ["RecurNN"]),
        .library(name: "RecurCharLM", targets: ["RecurCharLM"]),
        .library(name: "RecurWord2Vec", targets: ["RecurWord2Vec"]),
        .library(name: "RecurSeq2Seq", targets: ["RecurSeq2Seq"]),
        .library(name: "RecurDistributed", targets: ["RecurDistributed"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        // `swift package generate-documentation` (Scripts/docs.sh); a plugin, linked into nothing.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CUTF8Proc", pkgConfig: "libutf8proc", providers: [.apt(["libutf8proc-dev"])]),
        // Files, JSON text, the clock and pointer helpers: what every layer needs, without OpenBLAS.
        .target(name: "RecurBase", swiftSettings: optimization),
        .target(
            name: "RecurTensor",
            dependencies: [
                "CBLAS", "RecurBase", .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: optimization
        ),
        .executableTarget(
            name: "RecurCLI",
            dependencies: [
                "RecurBase", "RecurTensor", "RecurText", "RecurNN", "RecurCharLM", "RecurWord2Vec",
                "RecurSeq2Seq", "RecurReport", "RecurDistributed", "BLASDirect",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), "ZIPFoundation",
            ],
            swiftSettings: optimization
        ),
        .executableTarget(
            name: "CharLMExample",
            dependencies: ["RecurCharLM"],
            path: "Examples/CharLM",
            swiftSettings: optimization
        ),
        .executableTarget(
            name: "ToyTranslationExample",
            dependencies: ["RecurSeq2Seq"],
            path: "Examples/ToyTranslation",
            swiftSettings: optimization
        ),
        .executableTarget(
            name: "WordEmbeddingsExample",
            dependencies: ["RecurWord2Vec"],
            path: "Examples/WordEmbeddings",
            swiftSettings: optimization
        ),
        .target(name: "BLASDirect", dependencies: ["CBLAS"], path: "Benchmarks/BLASDirect"),
        .target(name: "AllocationCounter", path: "Benchmarks/AllocationCounter"),
        .executableTarget(
            name: "RecurBenchmarks",
            dependencies: ["RecurNN", "RecurDistributed", "AllocationCounter"],
            path: "Benchmarks/RecurBenchmarks",
            swiftSettings: optimization
        ),
        .target(
            name: "RecurText",
            dependencies: [
                "CUTF8Proc", "RecurBase",
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: optimization),
        .target(
            name: "RecurNN",
            dependencies: ["RecurTensor", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: optimization
        ),
        // Open MPI, loaded at run time (dlopen): nothing to install or link for a plain build.
        .target(name: "CRecurMPI"),
        .target(
            name: "RecurDistributed", dependencies: ["CRecurMPI", "RecurTensor"],
            swiftSettings: optimization),
        .target(
            name: "RecurReport",
            dependencies: ["RecurBase", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: optimization),
        .target(
            name: "RecurWord2Vec", dependencies: ["RecurTensor", "RecurText"],
            swiftSettings: optimization),
        .target(
            name: "RecurCharLM",
            dependencies: [
                "RecurNN", "RecurText", "RecurReport",
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: optimization
        ),
        .target(
            name: "RecurSeq2Seq",
            dependencies: ["RecurNN", "RecurText", "RecurReport"],
            swiftSettings: optimization
        ),
        .target(
            name: "RecurFuzzing",
            dependencies: ["RecurCharLM", "RecurSeq2Seq", "RecurWord2Vec", "RecurText", "RecurNN"],
            path: "Fuzz/RecurFuzzing"
        ),
        .executableTarget(name: "recur-fuzz", dependencies: ["RecurFuzzing"], path: "Fuzz/Runner"),
        .target(
            name: "RecurTestSupport",
            dependencies: ["RecurTensor", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: optimization),
        .testTarget(name: "RecurReportTests", dependencies: ["RecurReport"]),
        .testTarget(
            name: "RecurTextTests", dependencies: ["RecurText"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "RecurWord2VecTests", dependencies: ["RecurWord2Vec"], swiftSettings: optimization
        ),
        .testTarget(
            name: "RecurCLITests",
            dependencies: [
                "RecurCLI", "CharLMExample", "ToyTranslationExample", "WordEmbeddingsExample",
                "ZIPFoundation",
            ]),
        .testTarget(
            name: "RecurCharLMTests", dependencies: ["RecurCharLM", "RecurTestSupport"],
            swiftSettings: optimization),
        .testTarget(
            name: "RecurNNTests", dependencies: ["RecurNN", "RecurTestSupport"],
            resources: [.copy("Fixtures")], swiftSettings: optimization),
        .testTarget(
            name: "RecurSeq2SeqTests",
            dependencies: [
                "RecurSeq2Seq", "RecurNN", "RecurText", "RecurWord2Vec", "RecurTestSupport",
            ], resources: [.copy("Fixtures")], swiftSettings: optimization),
        .testTarget(
            name: "RecurFuzzTests",
            dependencies: ["RecurFuzzing", "RecurNN", "RecurWord2Vec", "RecurText", "RecurTensor"]),
        .testTarget(
            name: "RecurDistributedTests",
            dependencies: ["RecurDistributed", "RecurCharLM", "RecurSeq2Seq", "RecurNN"],
            swiftSettings: optimization),
        .testTarget(
            name: "RecurTensorTests", dependencies: ["RecurTensor", "RecurTestSupport"],
            swiftSettings: optimization),
    ],
    swiftLanguageModes: [.v6]
)

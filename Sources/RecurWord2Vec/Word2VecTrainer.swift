// word2vec training: skip-gram or CBOW, with negative sampling and/or hierarchical softmax,
// following the original C tool (Mikolov et al. 2013) step for step: frequent-word subsampling,
// a dynamic window, a learning rate decaying linearly over all words of all epochs, and lock-free
// (Hogwild) threads over shards of the corpus, streamed from disk every epoch.
//
// Names: `inputVectors` is the C tool's syn0 (the word vectors you keep), `outputVectors` its
// syn1neg (negative sampling) and `treeVectors` its syn1 (hierarchical softmax).

import RecurBase
import RecurTensor
import RecurText
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A matrix shared by the Hogwild workers without locks.
///
/// Rows are padded to a multiple of 16 floats (the padding stays zero), so the hot loop is
/// whole SIMD16 lanes with no scalar tail.
public final class HogwildMatrix: @unchecked Sendable {
    // @unchecked Sendable: worker threads read and write rows concurrently without locks, on
    // purpose (Hogwild!, Niu et al. 2011): a lost update between two threads touching the same
    // row is rare and harmless to SGD. Nothing else in Recur may be shared this way.
    /// Rows (words).
    public let rows: Int
    /// Values per row (the vector size).
    public let columns: Int
    /// Floats per row (columns rounded up to 16).
    public let stride: Int
    /// The first row; row i starts at `base + i · stride`.
    public let base: UnsafeMutablePointer<Float>

    /// A zeroed matrix, 64-byte aligned.
    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        stride = (columns + 15) / 16 * 16
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(rows * stride, 1) * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(rows * stride, 1))
        base.initialize(repeating: 0, count: rows * stride)
    }

    private var released = false

    deinit { discard() }

    /// Frees the memory now (the matrix must not be used afterwards): the trainer drops the
    /// output matrices before it copies the word vectors out, so the copy does not add to the
    /// peak.
    func discard() {
        if !released { UnsafeMutableRawPointer(base).deallocate() }
        released = true
    }

    /// The start of row i.
    @inline(__always) public func row(_ i: Int) -> UnsafeMutablePointer<Float> { base + i * stride }

    /// The matrix without padding, `[rows, columns]`.
    public func tensor() -> Tensor {
        var t = Tensor(uninitializedShape: [rows, columns])
        t.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                (p.start + r * columns).update(from: row(r), count: columns)
            }
        }
        return t
    }
}

/// Progress of a running training.
public struct Word2VecProgress: Sendable {
    /// Words trained on so far (all threads, all epochs).
    public var wordsProcessed: Int
    /// Words the run trains on in total.
    public var totalWords: Int
    /// The current (linearly decayed) learning rate.
    public var learningRate: Float
    /// Seconds since training started.
    public var seconds: Double
    /// Throughput so far.
    public var wordsPerSecond: Double { seconds > 0 ? Double(wordsProcessed) / seconds : 0 }
    /// The epoch being trained (1-based).
    public var epoch: Int
}

/// The result of training.
public struct Word2VecResult: Sendable {
    /// The trained input vectors (what word2vec exports).
    public var vectors: KeyedVectors
    /// Training time.
    public var seconds: Double
    /// Corpus words (in the vocabulary) × epochs / seconds.
    public var wordsPerSecond: Double
    /// Mean loss per prediction for each epoch (negative sampling: −log σ(v·v′) − Σ log σ(−v·v″)),
    /// accumulated in Float64.
    public var epochLosses: [Double]
}

/// Trains word vectors on a corpus file.
///
/// ```swift
/// var config = Word2VecConfiguration()
/// config.minCount = 2
/// let result = try Word2VecTrainer(corpusPath: "corpus.txt", configuration: config).train()
/// result.vectors.mostSimilar(to: "king", count: 5)
/// ```
public final class Word2VecTrainer {
    /// The corpus file (read again for each epoch).
    public let corpusPath: String
    /// The training settings.
    public let configuration: Word2VecConfiguration
    /// The vocabulary counted from the corpus (after `minCount` and `maxVocabulary`).
    public let vocabulary: WordVocabulary

    /// Builds (or takes) the vocabulary; fails for empty corpora and empty vocabularies.
    public init(
        corpusPath: String, configuration: Word2VecConfiguration, vocabulary: WordVocabulary? = nil
    ) throws {
        if let problem = configuration.problem { throw Word2VecError.invalidConfiguration(problem) }
        self.corpusPath = corpusPath
        self.configuration = configuration
        let v =
            try vocabulary
            ?? WordVocabulary.build(
                path: corpusPath, tokenizer: WordTokenizer(configuration.tokenization),
                minCount: configuration.minCount,
                maxWords: configuration.maxVocabulary)
        if v.corpusWords == 0 && vocabulary == nil {
            throw Word2VecError.emptyCorpus(path: corpusPath)
        }
        guard v.count > 0 else {
            throw Word2VecError.emptyVocabulary(
                path: corpusPath, minCount: configuration.minCount, distinctWords: v.corpusWords)
        }
        self.vocabulary = v
    }

    /// Runs all epochs; `progress` is called from a worker thread about twice a second.
    ///
    /// With a `ProcessGroup` of several processes, each trains (with its Hogwild threads) on its
    /// own part of the corpus, and the processes merge their vectors periodically, as in Ji et
    /// al. 2016 ("Parallelizing Word2Vec in Shared and Distributed Memory"): the most frequent
    /// words' rows after every round of `syncWords` words per process, all rows every
    /// `fullSyncRounds` rounds and at the end. A merge adds every process's change since the
    /// last merge (see `merge`). The learning rate decays on the words of all processes. Every
    /// process returns the same vectors.
    ///
    /// - Parameters:
    ///   - group: the processes training together (`SingleProcess`: no averaging).
    ///   - syncWords: words each process trains between two averagings.
    ///   - fullSyncRounds: rounds between two averagings of every row.
    ///   - progress: called with the words done (over all processes) and the learning rate.
    public func train(
        group: any ProcessGroup = SingleProcess(), syncWords: Int = 50_000,
        fullSyncRounds: Int = 4,
        progress: @escaping @Sendable (Word2VecProgress) -> Void = { _ in }
    ) throws -> Word2VecResult {
        try group.requireAgreement {
            var sha = SHA256()
            vocabulary.counts.withUnsafeBytes { sha.update($0) }
            sha.update(Array("\(configuration)".utf8))
            return Array(sha.finalizeHex().utf8)
        }
        let job = try TrainingJob(trainer: self, group: group, progress: progress)
        let start = MonotonicClock.seconds()
        var anyFailed = false
        if group.size == 1 {
            job.roundWords = Int.max
            ThreadPool.shared.run(tasks: configuration.threads, job: job)
        } else {
            job.roundWords = max(1, syncWords / configuration.threads)
            job.startMerging()
            var round = 0
            // Every process takes part in every round (one that has finished trains nothing)
            // until none has words left or one failed: the decision is collective, so all
            // leave the loop after the same round.
            while true {
                let state = group.sum([job.isFinished ? 0 : 1, job.firstError() == nil ? 0 : 1])
                anyFailed = state[1] > 0
                if state[0] == 0 || anyFailed { break }
                ThreadPool.shared.run(tasks: configuration.threads, job: job)
                round += 1
                job.merge(allRows: round % max(1, fullSyncRounds) == 0)
            }
            job.merge(allRows: true)
            job.sumLosses()
        }
        let seconds = MonotonicClock.seconds() - start
        // The process that failed says why; the others stop with it.
        if let error = job.firstError() { throw error }
        if anyFailed { throw OtherProcessFailed() }
        let losses = (0..<configuration.epochs).map { e in
            let l = (0..<configuration.threads).reduce(0.0) {
                $0 + job.loss[$1 * configuration.epochs + e]
            }
            let c = (0..<configuration.threads).reduce(0.0) {
                $0 + job.lossCount[$1 * configuration.epochs + e]
            }
            return c > 0 ? l / c : .nan
        }
        job.outputVectors.discard()
        job.treeVectors.discard()
        let words = (0..<vocabulary.count).map { vocabulary.table.string($0) }
        let trained = job.inputVectors.tensor()
        job.inputVectors.discard()
        // A loss that is not finite where there were terms to average means the run diverged.
        let diverged = (0..<configuration.threads * configuration.epochs).contains {
            job.lossCount[$0] > 0 && !job.loss[$0].isFinite
        }
        guard trained.isFinite, !diverged else {
            throw Word2VecError.diverged(learningRate: configuration.learningRate)
        }
        let vectors = KeyedVectors(words: words, vectors: trained)
        let total = Double(vocabulary.trainingWords) * Double(configuration.epochs)
        return Word2VecResult(
            vectors: vectors, seconds: seconds, wordsPerSecond: total / max(seconds, 1e-9),
            epochLosses: losses)
    }
}

/// The shared state of one training run and the per-thread loop.
///
/// Threads share it through the pool (a `ParallelJob` is not `Sendable`): the vectors are
/// `HogwildMatrix` (see there); every other shared field is written before the workers start,
/// or is an Atomic, or is a per-thread slot.
final class TrainingJob: ParallelJob {
    let config: Word2VecConfiguration
    let path: String
    let table: WordTable
    let counts: [Int]
    let fileSize: Int
    let inputVectors: HogwildMatrix
    let outputVectors: HogwildMatrix
    let treeVectors: HogwildMatrix
    let sampler: UnigramSampler
    let huffman: HuffmanTree?
    let sigmoid = SigmoidTable()
    let keepProbability: [Float]
    let totalWords: Int
    let processed = Atomic<Int>(0)
    /// Words the other processes had trained at the last averaging.
    let othersProcessed = Atomic<Int>(0)
    /// Words each thread trains per call of `run` (`Int.max`: all of them at once).
    var roundWords = Int.max
    let group: any ProcessGroup
    /// Where each thread stands between rounds.
    private var workers: [WorkerState]
    /// The matrices as of the last merge (input, output, tree), for multi-process runs.
    private var merged: [[Float]] = [[], [], []]
    private var change: [Float] = []
    let progress: @Sendable (Word2VecProgress) -> Void
    let started = MonotonicClock.seconds()
    /// Per thread and epoch: summed loss and number of terms.
    let loss: UnsafeMutablePointer<Double>
    let lossCount: UnsafeMutablePointer<Double>
    private let errors = Mutex<[TextError]>([])

    init(
        trainer: Word2VecTrainer, group: any ProcessGroup,
        progress: @escaping @Sendable (Word2VecProgress) -> Void
    ) throws {
        self.group = group
        config = trainer.configuration
        path = trainer.corpusPath
        table = trainer.vocabulary.table
        counts = trainer.vocabulary.counts
        fileSize = try WordVocabulary.fileSize(path)
        let v = counts.count
        let d = config.dimensions
        // The matrices must fit in memory: refuse before allocating (checked arithmetic).
        let matrices = 1 + (config.negative > 0 ? 1 : 0) + (config.hierarchicalSoftmax ? 1 : 0)
        let (elements, overflow) = v.multipliedReportingOverflow(by: d * matrices)
        let physical = physicalMemoryBytes
        if overflow || (physical > 0 && elements / 1024 * 4 > physical / 1024) {
            throw Word2VecError.invalidConfiguration(
                "\(v) words × --dim \(d) needs \(overflow ? "more" : "\(elements / (1 << 28)) GiB") of memory for the vectors, more than this machine has; lower --dim or raise --min-count / set --max-vocab"
            )
        }
        inputVectors = HogwildMatrix(rows: v, columns: d)
        outputVectors = HogwildMatrix(rows: config.negative > 0 ? v : 0, columns: d)
        treeVectors = HogwildMatrix(
            rows: config.hierarchicalSoftmax ? max(v - 1, 1) : 0, columns: d)
        sampler = UnigramSampler(counts: counts)
        huffman = config.hierarchicalSoftmax ? HuffmanTree(counts: counts) : nil
        // Input vectors uniform in ±0.5/d (the C tool's initialization), from the seed.
        var rng = Xoshiro256(seed: config.seed)
        for r in 0..<v {
            let row = inputVectors.row(r)
            for c in 0..<d { row[c] = (rng.nextFloat() - 0.5) / Float(d) }
        }
        let train = Double(counts.reduce(0, +))
        totalWords = counts.reduce(0, +) * config.epochs
        let sample = config.sample
        keepProbability = counts.map { c in
            guard sample > 0 else { return 1 }
            let threshold = sample * train
            return Float((Glibc.sqrt(Double(c) / threshold) + 1) * threshold / Double(c))
        }
        self.progress = progress
        // Part `rank · threads + task` of the file for each thread of each process.
        let (threads, seed, size) = (config.threads, config.seed, fileSize)
        let parts = threads * group.size
        let first = group.rank * threads
        workers = (first..<(first + threads)).map { part in
            WorkerState(
                shard: (size * part / parts)..<(size * (part + 1) / parts),
                seed: seed &+ UInt64(part) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        }
        loss = .allocate(capacity: config.threads * config.epochs)
        lossCount = .allocate(capacity: config.threads * config.epochs)
        loss.initialize(repeating: 0, count: config.threads * config.epochs)
        lossCount.initialize(repeating: 0, count: config.threads * config.epochs)
    }

    deinit {
        loss.deallocate()
        lossCount.deallocate()
    }

    func firstError() -> TextError? { errors.withLock { $0.first } }

    /// Whether every thread of this process has trained all its epochs.
    var isFinished: Bool { workers.allSatisfy(\.finished) }

    /// Remembers the starting vectors (the same on every process: seeded input vectors, zero
    /// output vectors) as the first merged state.
    func startMerging() {
        merged = [inputVectors, outputVectors, treeVectors].map {
            Array(UnsafeBufferPointer(start: $0.base, count: $0.rows * $0.stride))
        }
    }

    /// Merges the processes' vectors: the most frequent words' rows (the vocabulary is sorted by
    /// count), or all rows; and learns how far the others have come.
    ///
    /// Each process's change to a row since the last merge is summed over the processes and
    /// added to the merged row, as if the processes' threads had written to one shared matrix
    /// (Hogwild across processes). A plain average of the rows would halve the update of every
    /// word that only one process saw since the last merge.
    func merge(allRows: Bool) {
        for (index, matrix) in [inputVectors, outputVectors, treeVectors].enumerated()
        where matrix.rows > 0 {
            let rows = allRows ? matrix.rows : min(matrix.rows, max(1_000, matrix.rows / 10))
            let count = rows * matrix.stride
            if change.count < count { change = [Float](repeating: 0, count: count) }
            let values = matrix.base
            merged[index].withUnsafeMutableBufferPointer { base in
                change.withUnsafeMutableBufferPointer { delta in
                    for i in 0..<count { delta[i] = values[i] - base[i] }
                    group.allReduceSum(UnsafeMutableBufferPointer(rebasing: delta[0..<count]))
                    for i in 0..<count {
                        base[i] += delta[i]
                        values[i] = base[i]
                    }
                }
            }
        }
        let mine = processed.load(ordering: .relaxed)
        let all = Int(group.sum([Double(mine)])[0])
        othersProcessed.store(all - mine, ordering: .relaxed)
    }

    /// Sums every process's per-epoch losses, so each reports the whole corpus's.
    func sumLosses() {
        let n = config.threads * config.epochs
        for buffer in [loss, lossCount] {
            group.allReduceSum(UnsafeMutableBufferPointer(start: buffer, count: n))
        }
    }

    func learningRate(_ done: Int) -> Float {
        let r = config.learningRate * (1 - Float(Double(done) / Double(totalWords + 1)))
        return max(r, config.learningRate * 1e-4)
    }

    /// One worker: every epoch, stream this thread's shard and train on its sentences, until
    /// `roundWords` words of this call are done (then it returns, to go on in the next call).
    func run(task: Int) {
        let state = workers[task]
        let tokenizer = WordTokenizer(config.tokenization)
        var ids: [Int32] = []
        ids.reserveCapacity(1 << 18)
        var sentence = [Int32](repeating: 0, count: 1000)
        let work = UnsafeMutablePointer<Float>.allocate(capacity: 2 * inputVectors.stride)
        defer { work.deallocate() }
        var rng = state.rng
        defer { state.rng = rng }
        var lastReport = MonotonicClock.seconds()
        var budget = roundWords
        while !state.finished && budget > 0 {
            let epoch = state.epoch
            if state.stream == nil {
                do {
                    state.stream = try TokenStream(
                        path: path, range: state.shard, tokenizer: tokenizer)
                } catch {
                    errors.withLock { $0.append(error) }
                    state.finished = true
                    return
                }
            }
            ids.removeAll(keepingCapacity: true)
            let more: Bool
            do {
                more =
                    try state.stream?.next { token in
                        if token.isEmpty {
                            ids.append(-1)  // sentence boundary
                        } else if let id = table.id(of: token) {
                            ids.append(Int32(id))
                        }
                    } ?? false
            } catch {
                errors.withLock { $0.append(error) }
                state.finished = true
                return
            }
            if !more {
                state.stream?.close()
                state.stream = nil
                state.epoch += 1
                state.finished = state.epoch == config.epochs
            }
            // Sentences of at most 1000 kept words (the C tool's MAX_SENTENCE_LENGTH).
            var length = 0
            let others = othersProcessed.load(ordering: .relaxed)
            var alpha = learningRate(processed.load(ordering: .relaxed) + others)
            for id in ids {
                if id >= 0 {
                    state.counted += 1
                    budget -= 1
                    if state.counted >= 10_000 {
                        let done = processed.add(state.counted, ordering: .relaxed).newValue
                        state.counted = 0
                        alpha = learningRate(done + others)
                        if task == 0 {
                            let now = MonotonicClock.seconds()
                            if now - lastReport > 0.5 {
                                lastReport = now
                                progress(
                                    Word2VecProgress(
                                        wordsProcessed: done + others, totalWords: totalWords,
                                        learningRate: alpha,
                                        seconds: now - started, epoch: epoch))
                            }
                        }
                    }
                    if rng.nextFloat() < keepProbability[Int(id)] {
                        sentence[length] = id
                        length += 1
                    }
                }
                if (id < 0 && length > 0) || length == 1000 {
                    trainSentence(
                        sentence, length: length, alpha: alpha, rng: &rng, work: work,
                        slot: task * config.epochs + epoch)
                    length = 0
                }
            }
            if length > 0 {
                trainSentence(
                    sentence, length: length, alpha: alpha, rng: &rng, work: work,
                    slot: task * config.epochs + epoch)
            }
        }
        if state.finished {
            processed.add(state.counted, ordering: .relaxed)
            state.counted = 0
        }
    }

    /// Skip-gram or CBOW updates for every position of one sentence.
    @inline(__always)
    func trainSentence(
        _ sentence: [Int32], length: Int, alpha: Float, rng: inout Xoshiro256,
        work: UnsafeMutablePointer<Float>, slot: Int
    ) {
        let window = config.window
        let lanes = inputVectors.stride / 16
        let hidden = work  // CBOW's averaged context (neu1)
        let error = work + inputVectors.stride  // accumulated input-side gradient (neu1e)
        var lossSum = 0.0
        var lossTerms = 0.0
        sentence.withUnsafeBufferPointer { s in
            for position in 0..<length {
                let word = Int(s[position])
                let shrink = rng.nextInt(below: window)  // dynamic window: b in the C tool
                let low = max(0, position - window + shrink)
                let high = min(length - 1, position + window - shrink)
                if config.cbow {
                    SIMD.zero(hidden, lanes)
                    var contexts = 0
                    for c in low...high where c != position {
                        SIMD.axpy(1, inputVectors.row(Int(s[c])), hidden, lanes)
                        contexts += 1
                    }
                    if contexts == 0 { continue }
                    SIMD.scale(hidden, 1 / Float(contexts), lanes)
                    SIMD.zero(error, lanes)
                    (lossSum, lossTerms) = update(
                        input: hidden, target: word, alpha: alpha, error: error, lanes: lanes,
                        rng: &rng, loss: (lossSum, lossTerms))
                    for c in low...high where c != position {
                        SIMD.axpy(1, error, inputVectors.row(Int(s[c])), lanes)
                    }
                } else {
                    for c in low...high where c != position {
                        // The C tool's orientation: the context word's input vector predicts the
                        // centre word.
                        let input = inputVectors.row(Int(s[c]))
                        SIMD.zero(error, lanes)
                        (lossSum, lossTerms) = update(
                            input: input, target: word, alpha: alpha, error: error, lanes: lanes,
                            rng: &rng, loss: (lossSum, lossTerms))
                        SIMD.axpy(1, error, input, lanes)
                    }
                }
            }
        }
        loss[slot] += lossSum
        lossCount[slot] += lossTerms
    }

    /// Hierarchical-softmax and negative-sampling updates of one prediction of `target` from
    /// `input`, accumulating the input-side gradient in `error` (one dot and two axpy per term).
    @inline(__always)
    func update(
        input: UnsafeMutablePointer<Float>, target: Int, alpha: Float,
        error: UnsafeMutablePointer<Float>, lanes: Int,
        rng: inout Xoshiro256, loss: (Double, Double)
    ) -> (Double, Double) {
        var (lossSum, lossTerms) = loss
        let limit = SigmoidTable.limit
        if let huffman {
            let code = huffman.codes[target]
            let point = huffman.points[target]
            for d in 0..<code.count {
                let node = treeVectors.row(Int(point[d]))
                let f = SIMD.dot(input, node, lanes)
                // NaN (a diverged run) fails this test too, so it never indexes the table.
                guard f > -limit && f < limit else { continue }
                let sign: Float = code[d] == 0 ? 1 : -1
                let i = SigmoidTable.index(f)
                let g = (1 - Float(code[d]) - sigmoid.sigmoid[i]) * alpha
                lossSum -= Double(sigmoid.logSigmoid[SigmoidTable.index(sign * f)])
                lossTerms += 1
                SIMD.axpy(g, node, error, lanes)
                SIMD.axpy(g, input, node, lanes)
            }
        }
        if config.negative > 0 {
            for d in 0...config.negative {
                let sample: Int
                let label: Float
                if d == 0 {
                    sample = target
                    label = 1
                } else {
                    sample = sampler.sample(rng.next())
                    if sample == target { continue }
                    label = 0
                }
                let output = outputVectors.row(sample)
                let f = SIMD.dot(input, output, lanes)
                let g: Float
                if f >= -limit && f <= limit {
                    let i = SigmoidTable.index(f)
                    g = (label - sigmoid.sigmoid[i]) * alpha
                    lossSum -= Double(
                        label == 1
                            ? sigmoid.logSigmoid[i] : sigmoid.logSigmoid[SigmoidTable.index(-f)])
                } else if f > limit {
                    g = (label - 1) * alpha
                    lossSum += label == 1 ? 0 : Double(f)
                } else {
                    // f < -limit, or NaN once a run diverged (the loss then becomes NaN and
                    // `train` reports the divergence).
                    g = label * alpha
                    lossSum += label == 1 ? Double(-f) : 0
                }
                lossTerms += Double(label)
                SIMD.axpy(g, output, error, lanes)
                SIMD.axpy(g, input, output, lanes)
            }
        }
        return (lossSum, lossTerms)
    }
}

/// Whole-lane SIMD16 vector helpers over padded rows.
enum SIMD {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).load(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ lanes: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        for k in 0..<lanes { acc = VectorMath.madd(load(a + 16 * k), load(b + 16 * k), acc) }
        return acc.sum()
    }

    @inline(__always)
    static func axpy(
        _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lanes: Int
    ) {
        let a = SIMD16<Float>(repeating: alpha)
        for k in 0..<lanes {
            store(VectorMath.madd(a, load(x + 16 * k), load(y + 16 * k)), y + 16 * k)
        }
    }

    @inline(__always)
    static func zero(_ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
        for k in 0..<lanes { store(SIMD16(repeating: 0), p + 16 * k) }
    }

    @inline(__always)
    static func scale(_ p: UnsafeMutablePointer<Float>, _ s: Float, _ lanes: Int) {
        for k in 0..<lanes { store(load(p + 16 * k) * s, p + 16 * k) }
    }
}

/// Where one worker thread stands between rounds of a multi-process run.
final class WorkerState {
    /// The bytes of the corpus this thread trains on.
    let shard: Range<Int>
    var rng: Xoshiro256
    var epoch = 0
    var stream: TokenStream?
    var finished = false
    /// Words counted but not yet added to the shared count.
    var counted = 0

    init(shard: Range<Int>, seed: UInt64) {
        self.shard = shard
        rng = Xoshiro256(seed: seed)
    }
}

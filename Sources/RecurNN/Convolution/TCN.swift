import RecurTensor

/// One residual block of a temporal convolutional network (Bai, Kolter & Koltun 2018).
///
/// ```
/// y = dropout(relu(conv1(x)))        conv: causal, dilation d, kernel K
/// y = dropout(relu(conv2(y)))
/// out = relu(y + (x, or a 1×1 projection of x when the channel count changes))
/// ```
/// Shapes: `[B, T, C_in]` → `[B, T, C_out]`.
public final class TemporalBlock: Module {
    /// The first dilated causal convolution.
    public let conv1: CausalConv1d
    /// The second dilated causal convolution.
    public let conv2: CausalConv1d
    /// The 1×1 projection of the residual path (nil when channels match).
    public let downsample: CausalConv1d?
    /// Dropout after each convolution's ReLU.
    public let dropout: Dropout
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    /// A block with PyTorch's initialization for its convolutions.
    public init(
        inChannels: Int, outChannels: Int, kernelSize: Int, dilation: Int, dropout: Float,
        weightNormalization: Bool = false, rng: inout Xoshiro256
    ) {
        conv1 = CausalConv1d(
            inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
            dilation: dilation,
            weightNormalization: weightNormalization, rng: &rng)
        conv2 = CausalConv1d(
            inChannels: outChannels, outChannels: outChannels, kernelSize: kernelSize,
            dilation: dilation,
            weightNormalization: weightNormalization, rng: &rng)
        downsample =
            inChannels == outChannels
            ? nil
            : CausalConv1d(
                inChannels: inChannels, outChannels: outChannels, kernelSize: 1, rng: &rng)
        self.dropout = Dropout(probability: dropout)
    }

    /// Visits every parameter under `prefix` with its PyTorch name.
    public func visitParameters(prefix: String, _ visit: (String, Parameter) -> Void) {
        conv1.visitParameters(prefix: prefix + "conv1.", visit)
        conv2.visitParameters(prefix: prefix + "conv2.", visit)
        downsample?.visitParameters(prefix: prefix + "downsample.", visit)
    }

    /// Visits the child modules.
    public func visitChildren(_ visit: (Module) -> Void) {
        visit(conv1)
        visit(conv2)
        if let downsample { visit(downsample) }
        visit(dropout)
    }

    /// How many past steps (itself included) one output of this block sees: 2·(K-1)·d + 1.
    public var receptiveField: Int { 2 * conv1.padding + 1 }

    /// The block on `x` `[B, T, C_in]`: ReLU(x + F(x)) `[B, T, C_out]`, recorded on `x`'s tape.
    public func callAsFunction(_ x: Variable, rng: inout Xoshiro256) -> Variable {
        var y = dropout(conv1(x).relu(), rng: &rng)
        y = dropout(conv2(y).relu(), rng: &rng)
        let residual = downsample.map { $0(x) } ?? x
        return (y + residual).relu()
    }
}

/// A temporal convolutional network: residual blocks with dilations 1, 2, 4, … .
///
/// Shapes: `[B, T, C_in]` → `[B, T, C]`. Each output depends on the last `receptiveField`
/// inputs only.
public final class TCN: Module {
    /// The residual blocks, dilation 2^i for block i.
    public let blocks: [TemporalBlock]
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    /// A network of `count` blocks of `channels` channels each.
    public init(
        inputChannels: Int, channels: Int, blocks count: Int, kernelSize: Int, dropout: Float,
        weightNormalization: Bool = false, rng: inout Xoshiro256
    ) {
        precondition(count > 0, "TCN: needs at least one block")
        var blocks: [TemporalBlock] = []
        var c = inputChannels
        for i in 0..<count {
            blocks.append(
                TemporalBlock(
                    inChannels: c, outChannels: channels, kernelSize: kernelSize, dilation: 1 << i,
                    dropout: dropout,
                    weightNormalization: weightNormalization, rng: &rng))
            c = channels
        }
        self.blocks = blocks
    }

    /// Visits every parameter under `prefix` with its PyTorch name.
    public func visitParameters(prefix: String, _ visit: (String, Parameter) -> Void) {
        for (i, block) in blocks.enumerated() {
            block.visitParameters(prefix: prefix + "blocks.\(i).", visit)
        }
    }

    /// Visits the child modules.
    public func visitChildren(_ visit: (Module) -> Void) {
        for block in blocks { visit(block) }
    }

    /// 1 + Σ 2·(K-1)·d over the blocks: the number of past inputs (the current one included)
    /// that one output sees.
    public var receptiveField: Int { 1 + blocks.reduce(0) { $0 + $1.receptiveField - 1 } }

    /// The network on `x` `[B, T, C_in]`, recorded on `x`'s tape.
    public func callAsFunction(_ x: Variable, rng: inout Xoshiro256) -> Variable {
        var h = x
        for block in blocks { h = block(h, rng: &rng) }
        return h
    }
}

import RecurTensor

/// One residual block of a temporal convolutional network (Bai, Kolter & Koltun 2018).
///
/// ```
/// y = dropout(relu(conv1(x)))        conv: causal, dilation d, kernel K
/// y = dropout(relu(conv2(y)))
/// out = relu(y + (x, or a 1×1 projection of x when the channel count changes))
/// ```
/// Shapes: `[B, T, C_in]` → `[B, T, C_out]`.
public final class TemporalBlock: Layer {
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

    /// Visits `conv1`, `conv2`, `downsample` (when the widths differ) and the dropout.
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        visit(.child("conv1", conv1))
        visit(.child("conv2", conv2))
        if let downsample { visit(.child("downsample", downsample)) }
        visit(.child("dropout", dropout))
    }

    /// How many past steps (itself included) one output of this block sees: 2·(K-1)·d + 1.
    public var receptiveField: Int { 2 * conv1.padding + 1 }

    /// The block on `x` `[B, T, C_in]`: ReLU(x + F(x)) `[B, T, C_out]`, recorded on `x`'s tape.
    public func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable {
        var y = dropout(conv1(x).relu(), context: &context)
        y = dropout(conv2(y).relu(), context: &context)
        let residual = downsample.map { $0(x) } ?? x
        return (y + residual).relu()
    }
}

/// A temporal convolutional network: residual blocks with dilations 1, 2, 4, … .
///
/// Shapes: `[B, T, C_in]` → `[B, T, C]`. Each output depends on the last `receptiveField`
/// inputs only.
public final class TCN: Layer {
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

    /// Visits the blocks as `blocks.0`, `blocks.1` and so on.
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        for (i, block) in blocks.enumerated() { visit(.child("blocks.\(i)", block)) }
    }

    /// 1 + Σ 2·(K-1)·d over the blocks: the number of past inputs (the current one included)
    /// that one output sees.
    public var receptiveField: Int { 1 + blocks.reduce(0) { $0 + $1.receptiveField - 1 } }

    /// The network on `x` `[B, T, C_in]`, recorded on `x`'s tape.
    public func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable {
        var h = x
        for block in blocks { h = block(h, context: &context) }
        return h
    }
}

import RecurTensor

extension RecurrentLayer {
    /// The sequence layer as one tape node: output `[T, B, D·H]` and final states.
    ///
    /// The backward closure calls the fused `backward` with whatever gradients reached the
    /// output and the final states; parameter gradients accumulate into the layer's parameters.
    public func callAsFunction(
        _ input: Variable, initialHidden: Variable? = nil, initialCell: Variable? = nil,
        lengths: [Int]? = nil, context: inout ForwardContext
    ) -> (output: Variable, hidden: Variable, cell: Variable?) {
        let tape = input.tape
        let initial = initialHidden.map {
            RecurrentState(hidden: $0.value, cell: initialCell?.value)
        }
        let (output, state, cache) = forward(
            input.value, initialState: initial, lengths: lengths, context: &context)
        var values = [output, state.hidden]
        if let cell = state.cell { values.append(cell) }
        var inputs = [input]
        if let initialHidden { inputs.append(initialHidden) }
        if let initialCell { inputs.append(initialCell) }
        let parameters = self.parameters().map { tape.parameter($0.parameter) }
        let hasCell = kernel.hasCellState
        if !tape.isRecording { release(cache) }
        let results = tape.recordMultiple(values, inputs: inputs + parameters) { gradients in
            let stateGradient: RecurrentState?
            if gradients[1] != nil || (hasCell && gradients[2] != nil) {
                stateGradient = RecurrentState(
                    hidden: gradients[1] ?? Tensor.zeros(state.hidden.shape),
                    cell: hasCell ? (gradients[2] ?? Tensor.zeros(state.hidden.shape)) : nil)
            } else {
                stateGradient = nil
            }
            let (dInput, dInitial) = self.backward(
                cache, outputGradient: gradients[0], stateGradient: stateGradient,
                needsInputGradient: tape.requiresGradient(input))
            if let dInput { tape.accumulate(dInput, into: input) }
            if let initialHidden { tape.accumulate(dInitial.hidden, into: initialHidden) }
            if let initialCell, let c = dInitial.cell { tape.accumulate(c, into: initialCell) }
        }
        return (results[0], results[1], results.count > 2 ? results[2] : nil)
    }

    /// Token input (embedding folded into the first layer) as one tape node on the context's
    /// tape.
    public func callAsFunction(
        tokens: [Int32], timeSteps: Int, batch: Int, embedding: Embedding,
        initialHidden: Variable? = nil, initialCell: Variable? = nil, lengths: [Int]? = nil,
        context: inout ForwardContext
    ) -> (output: Variable, hidden: Variable, cell: Variable?) {
        let tape = context.tape
        let initial = initialHidden.map {
            RecurrentState(hidden: $0.value, cell: initialCell?.value)
        }
        let (output, state, cache) = forward(
            tokens: tokens, timeSteps: timeSteps, batch: batch, embedding: embedding,
            initialState: initial,
            lengths: lengths, context: &context)
        var values = [output, state.hidden]
        if let cell = state.cell { values.append(cell) }
        var inputs: [Variable] = []
        if let initialHidden { inputs.append(initialHidden) }
        if let initialCell { inputs.append(initialCell) }
        let parameters = (self.parameters() + embedding.parameters()).map {
            tape.parameter($0.parameter)
        }
        let hasCell = kernel.hasCellState
        if !tape.isRecording { release(cache) }
        let results = tape.recordMultiple(values, inputs: inputs + parameters) { gradients in
            let stateGradient =
                gradients[1] == nil && !(hasCell && gradients[2] != nil)
                ? nil
                : RecurrentState(
                    hidden: gradients[1] ?? Tensor.zeros(state.hidden.shape),
                    cell: hasCell ? (gradients[2] ?? Tensor.zeros(state.hidden.shape)) : nil)
            let (_, dInitial) = self.backward(
                cache, outputGradient: gradients[0], stateGradient: stateGradient)
            if let initialHidden { tape.accumulate(dInitial.hidden, into: initialHidden) }
            if let initialCell, let c = dInitial.cell { tape.accumulate(c, into: initialCell) }
        }
        return (results[0], results[1], results.count > 2 ? results[2] : nil)
    }
}

extension RecurrentLayer: Layer {
    /// The output sequence `[T, B, D·H]` of `x` `[T, B, I]` from zero states, as one tape node
    /// (the final states are dropped; the tuple-returning call keeps them).
    public func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable {
        self(x, initialHidden: nil, initialCell: nil, lengths: nil, context: &context).output
    }
}

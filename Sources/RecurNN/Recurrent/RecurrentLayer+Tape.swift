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
        let initial = initialHidden.map {
            RecurrentState(hidden: $0.value, cell: initialCell?.value)
        }
        let run = forward(input.value, initialState: initial, lengths: lengths, context: &context)
        return record(
            run, on: input.tape, input: input, initialHidden: initialHidden,
            initialCell: initialCell, parameters: parameters())
    }

    /// Token input (embedding folded into the first layer) as one tape node on the context's
    /// tape.
    public func callAsFunction(
        tokens: [Int32], timeSteps: Int, batch: Int, embedding: Embedding,
        initialHidden: Variable? = nil, initialCell: Variable? = nil, lengths: [Int]? = nil,
        context: inout ForwardContext
    ) -> (output: Variable, hidden: Variable, cell: Variable?) {
        let initial = initialHidden.map {
            RecurrentState(hidden: $0.value, cell: initialCell?.value)
        }
        let run = forward(
            tokens: tokens, timeSteps: timeSteps, batch: batch, embedding: embedding,
            initialState: initial, lengths: lengths, context: &context)
        return record(
            run, on: context.tape, input: nil, initialHidden: initialHidden,
            initialCell: initialCell, parameters: parameters() + embedding.parameters())
    }

    /// Records a fused run as one node of `tape` whose backward runs the fused backward and
    /// hands the gradients to `input` (tensor input only) and the initial states.
    private func record(
        _ run: (output: Tensor, state: RecurrentState, cache: RecurrentCache), on tape: Tape,
        input: Variable?, initialHidden: Variable?, initialCell: Variable?,
        parameters: [(name: String, parameter: Parameter)]
    ) -> (output: Variable, hidden: Variable, cell: Variable?) {
        let (output, state, cache) = run
        var values = [output, state.hidden]
        if let cell = state.cell { values.append(cell) }
        let inputs =
            [input, initialHidden, initialCell].compactMap { $0 }
            + parameters.map { tape.parameter($0.parameter) }
        let hasCell = kernel.hasCellState
        if !tape.isRecording { release(cache) }
        let results = tape.recordMultiple(values, inputs: inputs) { gradients in
            let stateGradient =
                gradients[1] == nil && !(hasCell && gradients[2] != nil)
                ? nil
                : RecurrentState(
                    hidden: gradients[1] ?? Tensor.zeros(state.hidden.shape),
                    cell: hasCell ? (gradients[2] ?? Tensor.zeros(state.hidden.shape)) : nil)
            let (dInput, dInitial) = self.backward(
                cache, outputGradient: gradients[0], stateGradient: stateGradient,
                needsInputGradient: input.map { tape.requiresGradient($0) } ?? false)
            if let input, let dInput { tape.accumulate(dInput, into: input) }
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

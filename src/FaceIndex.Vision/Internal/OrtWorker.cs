using Microsoft.ML.OnnxRuntime;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// A caller's binding to an ONNX Runtime session: input and output buffers allocated once for up to
/// <see cref="MaxBatch"/> samples, and one OrtValue over them per batch size, created on first use and
/// kept, so a run writes <see cref="Input"/>, calls <see cref="Run"/> and reads <see cref="Outputs"/>
/// with no allocation. Several workers may share one session (its Run is thread-safe); a worker
/// serves one caller at a time (see <see cref="OrtWorkerPool"/>). It does not own the session.
/// </summary>
internal sealed class OrtWorker : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly long[] _inputShape;
    private readonly long[][] _outputShapes;

    /// <summary>Per batch size n (index n − 1): the input value and the output values over the buffers' first n samples.</summary>
    private readonly (OrtValue[] Inputs, OrtValue[] Outputs)?[] _values;

    /// <param name="session">The session (shared or not).</param>
    /// <param name="inputShape">The input's shape for one sample, batch dimension (1) first.</param>
    /// <param name="outputs">The outputs' names and shapes for one sample, batch dimension (1) first.</param>
    /// <param name="maxBatch">Samples per run at most; 1 for a model with a fixed batch of 1.</param>
    public OrtWorker(InferenceSession session, long[] inputShape, (string Name, long[] Shape)[] outputs, int maxBatch)
    {
        _session = session;
        MaxBatch = maxBatch;
        _inputNames = [session.InputNames[0]];
        _inputShape = inputShape;
        InputLength = Product(inputShape);
        Input = new float[maxBatch * InputLength];
        _outputNames = new string[outputs.Length];
        _outputShapes = new long[outputs.Length][];
        OutputLengths = new int[outputs.Length];
        Outputs = new float[outputs.Length][];
        for (int i = 0; i < outputs.Length; i++)
        {
            _outputNames[i] = outputs[i].Name;
            _outputShapes[i] = outputs[i].Shape;
            OutputLengths[i] = Product(outputs[i].Shape);
            Outputs[i] = new float[maxBatch * OutputLengths[i]];
        }

        _values = new (OrtValue[], OrtValue[])?[maxBatch];
    }

    /// <summary>Samples one run takes at most.</summary>
    public int MaxBatch { get; }

    /// <summary>Floats of one sample's input.</summary>
    public int InputLength { get; }

    /// <summary>Floats of one sample's output, per output.</summary>
    public int[] OutputLengths { get; }

    /// <summary>The input buffer (NCHW floats; sample i at i × <see cref="InputLength"/>).</summary>
    public float[] Input { get; }

    /// <summary>The output buffers, in the order given at construction (sample i at i × the output's length).</summary>
    public float[][] Outputs { get; }

    /// <summary>Runs the model on the first <paramref name="batch"/> samples of <see cref="Input"/>, filling <see cref="Outputs"/>.</summary>
    public void Run(int batch = 1)
    {
        var (inputs, outputs) = _values[batch - 1] ??= Bind(batch);
        _session.Run(_runOptions, _inputNames, inputs, _outputNames, outputs);
    }

    public void Dispose()
    {
        foreach (var bound in _values)
        {
            if (bound is var (inputs, outputs))
            {
                foreach (var value in inputs.Concat(outputs))
                {
                    value.Dispose();
                }
            }
        }

        _runOptions.Dispose();
    }

    private (OrtValue[], OrtValue[]) Bind(int batch)
    {
        var memory = OrtMemoryInfo.DefaultInstance;
        var inputs = new[] { OrtValue.CreateTensorValueFromMemory(memory, Input.AsMemory(0, batch * InputLength), WithBatch(_inputShape, batch)) };
        var outputs = new OrtValue[_outputNames.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i] = OrtValue.CreateTensorValueFromMemory(memory, Outputs[i].AsMemory(0, batch * OutputLengths[i]), WithBatch(_outputShapes[i], batch));
        }

        return (inputs, outputs);
    }

    private static long[] WithBatch(long[] shape, int batch)
    {
        var copy = (long[])shape.Clone();
        copy[0] = batch;
        return copy;
    }

    private static int Product(long[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n *= d;
        }

        return checked((int)n);
    }
}

using Microsoft.ML.OnnxRuntime;

namespace FaceIndex.Vision.Internal;

/// <summary>
/// A caller's binding to an ONNX Runtime session: input and output tensors bound once to managed
/// buffers, so a run writes <see cref="Input"/>, calls <see cref="Run"/> and reads <see cref="Outputs"/>
/// with no allocation. Several workers may share one session (its Run is thread-safe); a worker
/// serves one caller at a time (see <see cref="OrtWorkerPool"/>). It does not own the session.
/// </summary>
internal sealed class OrtWorker : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly OrtValue[] _inputValues;
    private readonly OrtValue[] _outputValues;

    public OrtWorker(InferenceSession session, long[] inputShape, (string Name, long[] Shape)[] outputs)
    {
        _session = session;
        _inputNames = [session.InputNames[0]];
        Input = new float[Product(inputShape)];
        _inputValues = [OrtValue.CreateTensorValueFromMemory(Input, inputShape)];
        _outputNames = new string[outputs.Length];
        Outputs = new float[outputs.Length][];
        _outputValues = new OrtValue[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            _outputNames[i] = outputs[i].Name;
            Outputs[i] = new float[Product(outputs[i].Shape)];
            _outputValues[i] = OrtValue.CreateTensorValueFromMemory(Outputs[i], outputs[i].Shape);
        }
    }

    /// <summary>The input tensor's buffer (NCHW floats).</summary>
    public float[] Input { get; }

    /// <summary>The output tensors' buffers, in the order given at construction.</summary>
    public float[][] Outputs { get; }

    /// <summary>Runs the model on <see cref="Input"/>, filling <see cref="Outputs"/>.</summary>
    public void Run() => _session.Run(_runOptions, _inputNames, _inputValues, _outputNames, _outputValues);

    public void Dispose()
    {
        foreach (var value in _inputValues)
        {
            value.Dispose();
        }

        foreach (var value in _outputValues)
        {
            value.Dispose();
        }

        _runOptions.Dispose();
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

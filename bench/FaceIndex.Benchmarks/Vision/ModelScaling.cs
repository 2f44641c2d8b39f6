using System.Diagnostics;
using System.Globalization;
using FaceIndex.Vision;
using FaceIndex.Vision.Internal;
using Microsoft.ML.OnnxRuntime;

namespace FaceIndex.Benchmarks.Vision;

/// <summary>
/// Runs of one model alone, on dedicated threads, to see how it scales: one session per thread,
/// one session shared by the threads (InferenceSession.Run is thread-safe; each thread binds its
/// own tensors), and one session with 2 intra-op threads.
/// </summary>
internal static class ModelScaling
{
    public static void Print(List<(string Name, byte[] Bytes)> images, double seconds, int rounds)
    {
        var options = new VisionOptions { ModelsDirectory = BenchImages.Models, Sessions = 1 };
        using var pipeline = FacePipeline.Create(options);
        var prepared = pipeline.Prepare(images[0].Bytes, centreCropFallback: true);
        var aligned = prepared.Faces[0].Aligned.AsSpan(0, FaceAligner.TensorLength).ToArray();
        prepared.Faces.ForEach(f => f.Release());

        var detector = Path.Combine(BenchImages.Models, "fr_detect.onnx");
        var embedder = Path.Combine(BenchImages.Models, "fr_feature.onnx");
        Console.WriteLine($"Models alone, runs/s, median of {rounds} interleaved rounds of {seconds:F0} s:");
        Console.WriteLine();
        Console.WriteLine("| model | 1 thread, 1 session | 2 threads, 2 sessions | 2 threads, 1 shared session | 1 session × 2 intra-op threads | same, no spinning |");
        Console.WriteLine("|---|---|---|---|---|---|");
        PrintRow("embedding (fr_feature, 112×112)", embedder, [1, 3, 112, 112], [("output", [1, 512])], aligned, seconds, rounds);
        PrintRow("detection (fr_detect, 320×240)", detector, [1, 3, 240, 320], [("scores", [1, 4420, 2]), ("boxes", [1, 4420, 4])], null, seconds, rounds);
    }

    private static void PrintRow(string name, string model, long[] inputShape, (string, long[])[] outputs, float[]? input, double seconds, int rounds)
    {
        var single = new List<double>();
        var separate = new List<double>();
        var shared = new List<double>();
        var intra = new List<double>();
        var calm = new List<double>();
        using var s1 = Session(model, 1, spin: true);
        using var s2 = Session(model, 1, spin: true);
        using var s3 = Session(model, 2, spin: true);
        using var s4 = Session(model, 2, spin: false);
        using var a = Worker(s1, inputShape, outputs, input);
        using var b = Worker(s2, inputShape, outputs, input);
        using var aShared = Worker(s1, inputShape, outputs, input);
        using var c = Worker(s3, inputShape, outputs, input);
        using var d = Worker(s4, inputShape, outputs, input);
        a.Run();
        b.Run();
        c.Run();
        d.Run();
        for (int round = 0; round < rounds; round++)
        {
            single.Add(OnThreads(1, seconds, _ => a.Run()));
            separate.Add(OnThreads(2, seconds, t => (t == 0 ? a : b).Run()));
            shared.Add(OnThreads(2, seconds, t => (t == 0 ? a : aShared).Run()));
            intra.Add(OnThreads(1, seconds, _ => c.Run()));
            calm.Add(OnThreads(1, seconds, _ => d.Run()));
        }

        double one = VisionCommand.Median(single);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {one:F1} | {VisionCommand.Median(separate):F1} ({VisionCommand.Median(separate) / one:F2}×) | {VisionCommand.Median(shared):F1} ({VisionCommand.Median(shared) / one:F2}×) | {VisionCommand.Median(intra):F1} ({VisionCommand.Median(intra) / one:F2}×) | {VisionCommand.Median(calm):F1} ({VisionCommand.Median(calm) / one:F2}×) |"));
    }

    private static InferenceSession Session(string model, int threads, bool spin)
    {
        using var so = OrtWorkerPool.CreateSessionOptions(new VisionOptions { IntraOpThreads = threads, IntraOpSpinning = spin });
        return new InferenceSession(model, so);
    }

    /// <summary>A worker over a session it does not own (the caller disposes the session).</summary>
    private static BoundRun Worker(InferenceSession session, long[] inputShape, (string Name, long[] Shape)[] outputs, float[]? input)
    {
        var run = new BoundRun(session, inputShape, outputs);
        if (input is not null)
        {
            input.CopyTo(run.Input, 0);
        }

        return run;
    }

    /// <summary>Calls <paramref name="work"/> in a loop on each of <paramref name="threads"/> dedicated threads; returns calls per second in all.</summary>
    public static double OnThreads(int threads, double seconds, Action<int> work)
    {
        long calls = 0;
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        long stopAt = 0;
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                long n = 0;
                while (Stopwatch.GetTimestamp() < Volatile.Read(ref stopAt))
                {
                    work(id);
                    n++;
                }

                Interlocked.Add(ref calls, n);
            })
            { IsBackground = true };
            workers[t].Start();
        }

        Volatile.Write(ref stopAt, Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency));
        var clock = Stopwatch.StartNew();
        start.SignalAndWait();
        foreach (var w in workers)
        {
            w.Join();
        }

        return calls / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Input and outputs bound to managed buffers once; <see cref="Run"/> allocates nothing.</summary>
    private sealed class BoundRun : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly RunOptions _options = new();
        private readonly string[] _inputNames;
        private readonly string[] _outputNames;
        private readonly OrtValue[] _inputs;
        private readonly OrtValue[] _outputs;

        public BoundRun(InferenceSession session, long[] inputShape, (string Name, long[] Shape)[] outputs)
        {
            _session = session;
            _inputNames = [session.InputNames[0]];
            Input = new float[(int)inputShape.Aggregate(1L, (x, y) => x * y)];
            _inputs = [OrtValue.CreateTensorValueFromMemory(Input, inputShape)];
            _outputNames = Array.ConvertAll(outputs, o => o.Name);
            _outputs = Array.ConvertAll(outputs, o => OrtValue.CreateTensorValueFromMemory(new float[(int)o.Shape.Aggregate(1L, (x, y) => x * y)], o.Shape));
        }

        public float[] Input { get; }

        public void Run() => _session.Run(_options, _inputNames, _inputs, _outputNames, _outputs);

        public void Dispose()
        {
            foreach (var value in _inputs.Concat(_outputs))
            {
                value.Dispose();
            }

            _options.Dispose();
        }
    }
}

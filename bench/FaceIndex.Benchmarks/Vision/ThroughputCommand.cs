using System.Diagnostics;
using System.Globalization;
using FaceIndex.Vision;
using FaceIndex.Vision.Internal;
using SkiaSharp;

namespace FaceIndex.Benchmarks.Vision;

/// <summary>
/// <c>vision throughput [--provider Auto] [--seconds 5] [--batches 1,8,32] [--sets small,camera,many]</c>:
/// end-to-end images/s through <see cref="FacePipeline.AnalyzeAsync"/> (2 callers per core) next to bare
/// ONNX Runtime inference of the three models on the same images and faces in the same run, for three
/// image sets built from the deepface and lfw-disjoint photographs: small (deepface resized to 0.3 MP),
/// camera (the deepface originals of 2–12 MP) and many faces (4×4 lfw-disjoint faces in one 1000×1000
/// picture). Then the embedding model alone at each batch size. Prints one Markdown table, or with
/// <c>--tsv</c> one "measurement TAB value" line per figure (scripts/gpu-check.sh joins the CPU and CUDA runs).
/// <c>vision provider</c> says which provider Auto picks and why (exit code 0 for CUDA, 3 for the CPU);
/// <c>vision compare DIR</c> embeds every image of a folder on the CPU and on CUDA and prints the largest
/// difference of the unit 512-D embeddings.
/// </summary>
internal static class ThroughputCommand
{
    public static int Provider()
    {
        using var pipeline = FacePipeline.Create(new VisionOptions { ModelsDirectory = BenchImages.Models, Sessions = 1 });
        Console.WriteLine($"provider\t{pipeline.ProviderSummary}");
        return pipeline.ExecutionProvider == ExecutionProvider.Cpu ? 3 : 0;
    }

    public static int Compare(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: vision compare DIR (every .jpg below it, CPU against CUDA)");
            return 2;
        }

        var files = Directory.GetFiles(args[0], "*.jpg", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        using var cpu = FacePipeline.Create(new VisionOptions { ModelsDirectory = BenchImages.Models, Provider = ExecutionProvider.Cpu });
        using var cuda = FacePipeline.Create(new VisionOptions { ModelsDirectory = BenchImages.Models, Provider = ExecutionProvider.Cuda });
        float worst = 0;
        int faces = 0;
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, file =>
        {
            var bytes = File.ReadAllBytes(file);
            var a = cpu.AnalyzeAsync(bytes).GetAwaiter().GetResult();
            var b = cuda.AnalyzeAsync(bytes).GetAwaiter().GetResult();
            float local = 0;
            for (int f = 0; f < Math.Min(a.Count, b.Count); f++)
            {
                for (int d = 0; d < a[f].Embedding512.Length; d++)
                {
                    local = Math.Max(local, Math.Abs(a[f].Embedding512[d] - b[f].Embedding512[d]));
                }
            }

            Interlocked.Add(ref faces, Math.Min(a.Count, b.Count));
            lock (files)
            {
                worst = Math.Max(worst, a.Count == b.Count ? local : float.PositiveInfinity);
            }
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"max |CPU − CUDA| of a 512-D embedding, {Path.GetFileName(args[0].TrimEnd('/'))} ({files.Length} images, {faces} faces)\t{worst:E1}"));
        return 0;
    }

    public static int Run(string[] args)
    {
        var provider = ExecutionProvider.Auto;
        bool tsv = args.Contains("--tsv");
        args = [.. args.Where(a => a != "--tsv")];
        double seconds = 5;
        int[] batches = [1, 8, 32];
        string[] sets = ["small", "camera", "many"];
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--provider":
                    provider = Enum.Parse<ExecutionProvider>(args[i + 1], ignoreCase: true);
                    break;
                case "--seconds":
                    seconds = double.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--batches":
                    batches = Array.ConvertAll(args[i + 1].Split(','), b => int.Parse(b, CultureInfo.InvariantCulture));
                    break;
                case "--sets":
                    sets = args[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries);
                    break;
                case "--stages":
                    using (var p = FacePipeline.Create(new VisionOptions { ModelsDirectory = BenchImages.Models, Provider = ExecutionProvider.Cpu, Sessions = 1 }))
                    {
                        Stages(p, Build(args[i + 1]));
                    }

                    return 0;
                default:
                    Console.Error.WriteLine("usage: vision throughput [--provider Auto|Cpu|Cuda|TensorRt] [--seconds 5] [--batches 1,8,32] [--sets small,camera,many]");
                    return 2;
            }
        }

        var options = new VisionOptions { ModelsDirectory = BenchImages.Models, Provider = provider };
        using var pipeline = FacePipeline.Create(options);
        var ep = pipeline.ExecutionProvider;
        var report = tsv ? TextWriter.Null : Console.Out;
        report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"vision throughput: providers {pipeline.ProviderSummary}; {options.SessionsFor(ep)} sessions, batches ≤ {options.EffectiveMaxBatch(ep)}, wait ≤ {options.EffectiveMaxWait(ep).TotalMilliseconds} ms; {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));
        report.WriteLine();
        report.WriteLine("| measurement | images | MP/image | faces/image | images/s | faces/s | CPU ms/image | bare inference: images/s | bare: CPU ms/image | end-to-end ÷ bare, images/s | bare ÷ end-to-end, CPU | mean batch |");
        report.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var set in sets)
        {
            var images = Build(set);
            var (rate, cpu, faces, batch) = EndToEnd(pipeline, images, 2 * Environment.ProcessorCount, seconds);
            var (bare, bareCpu) = BareInference(pipeline, images, seconds);
            double mp = images.Average(i => i.Megapixels);
            report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| pipeline, {set} | {images.Count} | {mp:F1} | {faces:F1} | {rate:F1} | {rate * faces:F1} | {cpu:F1} | {bare:F1} | {bareCpu:F1} | {rate / bare:F2} | {bareCpu / cpu:F2} | {batch:F1} |"));
            if (tsv)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"images/s end to end (pipeline, {2 * Environment.ProcessorCount} callers), {set} ({mp:F1} MP, {faces:F1} faces)\t{rate:F1}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"images/s bare inference of the 3 models, {set}\t{bare:F1}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"end to end ÷ bare, {set}\t{rate / bare:F2}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean embedding batch, {set}\t{batch:F1}"));
            }
        }

        foreach (int b in batches)
        {
            var (facesPerSecond, cpuMs) = EmbedderAtBatch(options, b, seconds);
            report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| embedding model alone, batch {b} | | | | | {facesPerSecond:F1} | {cpuMs:F1} per face | | | | | {b} |"));
            if (tsv)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"faces/s embedding model alone, batch {b}\t{facesPerSecond:F0}"));
            }
        }

        return 0;
    }

    private sealed record Image(byte[] Bytes, double Megapixels);

    /// <summary>Each stage on one thread over the set, thread CPU time per image (second of two passes).</summary>
    private static void Stages(FacePipeline pipeline, List<Image> images)
    {
        string[] names = ["decode (reduced scale)", "detector input resize", "detector run + NMS", "landmarks (crop + run)", "align", "embed", "decode (full size, for comparison)"];
        var ms = new double[names.Length];
        for (int pass = 0; pass < 2; pass++)
        {
            Array.Clear(ms);
            foreach (var image in images)
            {
                var t = Stopwatch.GetTimestamp();
                using var decoded = pipeline.Decoder.Decode(image.Bytes, FacePipeline.DetectionSide);
                t = Lap(ms, 0, t);
                var input = new float[3 * FaceDetector.InputWidth * FaceDetector.InputHeight];
                Resampler.ResizeToPlanes(decoded, 0, 0, decoded.Width, decoded.Height, FaceDetector.InputWidth, FaceDetector.InputHeight, input);
                t = Lap(ms, 1, t);
                var detections = pipeline.Detector.Detect(decoded);
                t = Lap(ms, 2, t);
                var points = pipeline.Landmarks.DetectAll(decoded, detections.ConvertAll(d => d.Box));
                t = Lap(ms, 3, t);
                var aligned = new float[FaceAligner.TensorLength];
                var embedding = new float[FaceEmbedder.Dimensions];
                foreach (var p in points)
                {
                    FaceAligner.Align(decoded, p, aligned);
                }

                t = Lap(ms, 4, t);
                foreach (var p in points)
                {
                    pipeline.Embedder.Embed(aligned, embedding);
                }

                t = Lap(ms, 5, t);
                using var full = pipeline.Decoder.Decode(image.Bytes);
                Lap(ms, 6, t);
            }
        }

        Console.WriteLine("| stage (one thread) | ms/image |");
        Console.WriteLine("|---|---|");
        for (int s = 0; s < names.Length; s++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {names[s]} | {ms[s] / images.Count:F2} |"));
        }
    }

    private static long Lap(double[] ms, int stage, long start)
    {
        long now = Stopwatch.GetTimestamp();
        ms[stage] += (now - start) * 1000.0 / Stopwatch.Frequency;
        return now;
    }

    /// <summary>An image set: "small", "camera" or "many".</summary>
    private static List<Image> Build(string set)
    {
        var deepface = BenchImages.Load(BenchImages.Deepface);
        switch (set)
        {
            case "camera":
                return deepface.Select(i => (i.Bytes, Mp: Megapixels(i.Bytes))).Where(i => i.Mp is >= 2 and <= 12).Select(i => new Image(i.Bytes, i.Mp)).ToList();
            case "small":
                return deepface.Take(24).Select(i => Resized(i.Bytes, 0.3)).ToList();
            case "many":
                var lfw = Directory.GetFiles(Path.Combine(BenchImages.Faces, "lfw-disjoint"), "*.jpg", SearchOption.AllDirectories);
                Array.Sort(lfw, StringComparer.Ordinal);
                return Enumerable.Range(0, 4).Select(k => Mosaic(lfw.Skip(k * 16).Take(16).ToArray())).ToList();
            default:
                throw new ArgumentException($"unknown image set '{set}' (small, camera, many)");
        }
    }

    private static double Megapixels(byte[] bytes)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(bytes));
        return codec.Info.Width * (double)codec.Info.Height / 1e6;
    }

    private static Image Resized(byte[] bytes, double megapixels)
    {
        using var bitmap = SKBitmap.Decode(bytes);
        double f = Math.Sqrt(megapixels * 1e6 / (bitmap.Width * (double)bitmap.Height));
        using var small = bitmap.Resize(new SKImageInfo((int)(bitmap.Width * f), (int)(bitmap.Height * f)), new SKSamplingOptions(SKCubicResampler.Mitchell));
        using var data = small.Encode(SKEncodedImageFormat.Jpeg, 90);
        return new Image(data.ToArray(), small.Width * (double)small.Height / 1e6);
    }

    /// <summary>16 LFW faces (250×250) in a 4×4 grid on a 1000×1000 JPEG.</summary>
    private static Image Mosaic(string[] files)
    {
        using var canvasBitmap = new SKBitmap(1000, 1000);
        using (var canvas = new SKCanvas(canvasBitmap))
        {
            for (int i = 0; i < files.Length; i++)
            {
                using var face = SKImage.FromEncodedData(files[i]);
                canvas.DrawImage(face, SKRect.Create(i % 4 * 250, i / 4 * 250, 250, 250), SKSamplingOptions.Default);
            }
        }

        using var data = canvasBitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return new Image(data.ToArray(), 1.0);
    }

    /// <summary>AnalyzeAsync by many concurrent callers: images/s, faces/image, mean embedding batch.</summary>
    private static (double Rate, double CpuMs, double Faces, double Batch) EndToEnd(FacePipeline pipeline, List<Image> images, int callers, double seconds)
    {
        long done = 0, faces = 0;
        int next = -1;
        foreach (var image in images)
        {
            pipeline.AnalyzeAsync(image.Bytes).GetAwaiter().GetResult();
        }

        long batches = pipeline.Embedder.Queue.Batches, samples = pipeline.Embedder.Queue.Samples;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var stopAt = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var clock = Stopwatch.StartNew();
        var loops = new Task[callers];
        for (int w = 0; w < callers; w++)
        {
            loops[w] = Task.Run(async () =>
            {
                while (Stopwatch.GetTimestamp() < stopAt)
                {
                    int i = Interlocked.Increment(ref next) % images.Count;
                    var found = await pipeline.AnalyzeAsync(images[i].Bytes).ConfigureAwait(false);
                    Interlocked.Increment(ref done);
                    Interlocked.Add(ref faces, found.Count);
                }
            });
        }

        Task.WaitAll(loops);
        double elapsed = clock.Elapsed.TotalSeconds;
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        double batch = (pipeline.Embedder.Queue.Samples - samples) / (double)Math.Max(1, pipeline.Embedder.Queue.Batches - batches);
        return (done / elapsed, cpuMs / Math.Max(1, done), faces / (double)Math.Max(1, done), batch);
    }

    /// <summary>
    /// The three models alone on the inputs the pipeline gives them for these images (prepared once):
    /// per image, the detector once, the landmark model on its faces, the embedding model on its faces,
    /// as many images at once as the pipeline has workers. Images/s.
    /// </summary>
    private static (double Rate, double CpuMs) BareInference(FacePipeline pipeline, List<Image> images, double seconds)
    {
        var inputs = new List<(float[] Detector, float[] Landmarks, float[] Aligned, int Faces)>();
        foreach (var image in images)
        {
            using var decoded = pipeline.Decoder.Decode(image.Bytes, FacePipeline.DetectionSide);
            var detectorInput = new float[3 * FaceDetector.InputWidth * FaceDetector.InputHeight];
            Resampler.ResizeToPlanes(decoded, 0, 0, decoded.Width, decoded.Height, FaceDetector.InputWidth, FaceDetector.InputHeight, detectorInput);
            var prepared = pipeline.Prepare(image.Bytes, centreCropFallback: false);
            int n = prepared.Faces.Count;
            // The landmark crops' content does not change the model's time; their number does.
            var landmarks = new float[Math.Max(1, n) * 64 * 64];
            var aligned = new float[Math.Max(1, n) * FaceAligner.TensorLength];
            for (int f = 0; f < n; f++)
            {
                prepared.Faces[f].Aligned.CopyTo(aligned, f * FaceAligner.TensorLength);
                prepared.Faces[f].Release();
            }

            inputs.Add((detectorInput, landmarks, aligned, n));
        }

        int workers = pipeline.Embedder.Pool.Count;
        long done = 0;
        int next = -1;
        var stopAt = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var threads = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            threads[w] = new Thread(() =>
            {
                while (Stopwatch.GetTimestamp() < stopAt)
                {
                    var (detector, landmarks, aligned, faces) = inputs[Interlocked.Increment(ref next) % inputs.Count];
                    RunBatched(pipeline.Detector.Pool, detector, 1);
                    RunBatched(pipeline.Landmarks.Pool, landmarks, faces);
                    RunBatched(pipeline.Embedder.Pool, aligned, faces);
                    Interlocked.Increment(ref done);
                }
            });
            threads[w].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        double elapsed = clock.Elapsed.TotalSeconds;
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        return (done / elapsed, cpuMs / Math.Max(1, done));
    }

    private static void RunBatched(OrtWorkerPool pool, float[] input, int samples)
    {
        var worker = pool.Rent();
        try
        {
            for (int start = 0; start < samples; start += worker.MaxBatch)
            {
                int n = Math.Min(worker.MaxBatch, samples - start);
                input.AsSpan(start * worker.InputLength, n * worker.InputLength).CopyTo(worker.Input);
                worker.Run(n);
            }
        }
        finally
        {
            pool.Return(worker);
        }
    }

    /// <summary>The embedding model alone at a fixed batch, one run per worker at a time: faces/s.</summary>
    private static (double FacesPerSecond, double CpuMsPerFace) EmbedderAtBatch(VisionOptions baseOptions, int batch, double seconds)
    {
        var options = new VisionOptions { ModelsDirectory = baseOptions.ModelsDirectory, Provider = baseOptions.Provider, MaxBatch = batch };
        using var pipeline = FacePipeline.Create(options);
        var pool = pipeline.Embedder.Pool;
        var random = new Random(1);
        var workers = new OrtWorker[pool.Count];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = pool.Rent();
            for (int i = 0; i < workers[w].Input.Length; i++)
            {
                workers[w].Input[i] = random.NextSingle() - 0.5f;
            }

            workers[w].Run(batch);
        }

        long faces = 0;
        var stopAt = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var threads = new Thread[workers.Length];
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (int w = 0; w < threads.Length; w++)
        {
            var worker = workers[w];
            threads[w] = new Thread(() =>
            {
                while (Stopwatch.GetTimestamp() < stopAt)
                {
                    worker.Run(batch);
                    Interlocked.Add(ref faces, batch);
                }
            });
            threads[w].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        double elapsed = clock.Elapsed.TotalSeconds;
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
        foreach (var worker in workers)
        {
            pool.Return(worker);
        }

        return (faces / elapsed, cpuMs / Math.Max(1, faces));
    }
}

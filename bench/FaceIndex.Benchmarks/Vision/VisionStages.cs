using System.Diagnostics;
using System.Globalization;
using FaceIndex.Core;
using FaceIndex.Vision;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Benchmarks.Vision;

/// <summary>Each stage of the pipeline timed on its own, one thread, over the image set (mean of a measured pass after a warm-up pass).</summary>
internal static class VisionStages
{
    private const int Stages = 6;
    private static readonly string[] s_names = ["decode (SkiaSharp, EXIF)", "detect (UltraFace 320×240 + NMS)", "landmarks (68 points, per face)", "align (5-point similarity + warp, per face)", "embed (fr_feature, per face)", "project + quantize (per face)"];

    public static void Print(List<(string Name, byte[] Bytes)> images)
    {
        using var pipeline = FacePipeline.Create(new VisionOptions { ModelsDirectory = BenchImages.Models, Sessions = 1 });
        Measure(pipeline, images, out _, out _, out _);
        Measure(pipeline, images, out var ticks, out var bytes, out var counts);

        Console.WriteLine($"Stages on one thread (1 session × 1 intra-op thread), mean over {images.Count} images / {counts[2]} faces; managed allocation of the calling thread:");
        Console.WriteLine();
        Console.WriteLine("| stage | ms | managed alloc |");
        Console.WriteLine("|---|---|---|");
        double total = 0;
        for (int s = 0; s < Stages; s++)
        {
            double ms = ticks[s] * 1000.0 / Stopwatch.Frequency / counts[s];
            total += ticks[s] * 1000.0 / Stopwatch.Frequency / images.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {s_names[s]} | {ms:F2} | {bytes[s] / (double)counts[s] / 1024:N1} KB |"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| all stages, per image ({counts[2] / (double)images.Count:F2} faces/image) | {total:F2} | |"));
    }

    private static void Measure(FacePipeline pipeline, List<(string Name, byte[] Bytes)> images, out long[] ticks, out long[] bytes, out int[] counts)
    {
        ticks = new long[Stages];
        bytes = new long[Stages];
        counts = new int[Stages];
        var aligned = new float[FaceAligner.TensorLength];
        var embedding = new float[FaceEmbedder.Dimensions];
        var projected = new float[FaceVector.Dimensions];
        foreach (var (_, encoded) in images)
        {
            long t = Stopwatch.GetTimestamp(), b = GC.GetAllocatedBytesForCurrentThread();
            using var image = pipeline.Decoder.Decode(encoded);
            Add(0, ref t, ref b, ticks, bytes, counts);
            var detections = pipeline.Detector.Detect(image);
            Add(1, ref t, ref b, ticks, bytes, counts);
            foreach (var detection in detections)
            {
                var points = pipeline.Landmarks.Detect(image, detection.Box);
                Add(2, ref t, ref b, ticks, bytes, counts);
                FaceAligner.Align(image, points, aligned);
                Add(3, ref t, ref b, ticks, bytes, counts);
                pipeline.Embedder.Embed(aligned, embedding);
                Add(4, ref t, ref b, ticks, bytes, counts);
                pipeline.Projection!.Apply(embedding, projected);
                GC.KeepAlive(Quantizer.QuantizeUnit(projected));
                Add(5, ref t, ref b, ticks, bytes, counts);
            }
        }
    }

    private static void Add(int stage, ref long t, ref long b, long[] ticks, long[] bytes, int[] counts)
    {
        long now = Stopwatch.GetTimestamp(), allocated = GC.GetAllocatedBytesForCurrentThread();
        ticks[stage] += now - t;
        bytes[stage] += allocated - b;
        counts[stage]++;
        t = Stopwatch.GetTimestamp();
        b = GC.GetAllocatedBytesForCurrentThread();
    }
}

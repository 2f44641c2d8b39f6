using System.Drawing;
using BenchmarkDotNet.Attributes;
using FaceIndex.Core;
using FaceIndex.Vision;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Benchmarks.Vision;

/// <summary>
/// Each stage of the face pipeline on one thread (one session, one intra-op thread), with allocations:
/// a small portrait (img16, 740×418) and a 2.6-megapixel one (img1, 1382×1868), and the whole
/// pipeline per image. Run: <c>dotnet run -c Release --project bench/FaceIndex.Benchmarks -- --filter *VisionStage*</c>.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class VisionStageBenchmarks
{
    private FacePipeline _pipeline = null!;
    private byte[] _bytes = [];
    private RgbImage _image = null!;
    private FaceBox _box;
    private PointF[] _points = [];
    private readonly float[] _aligned = new float[FaceAligner.TensorLength];
    private readonly float[] _embedding = new float[FaceEmbedder.Dimensions];
    private readonly float[] _projected = new float[FaceVector.Dimensions];

    /// <summary>The deepface photograph measured.</summary>
    [Params("img16.jpg", "img1.jpg")]
    public string Image { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _pipeline = FacePipeline.Create(new VisionOptions { ModelsDirectory = BenchImages.Models, Sessions = 1 });
        _bytes = File.ReadAllBytes(Path.Combine(BenchImages.Deepface, Image));
        _image = _pipeline.Decoder.Decode(_bytes);
        _box = _pipeline.Detector.Detect(_image)[0].Box;
        _points = _pipeline.Landmarks.Detect(_image, _box);
        FaceAligner.Align(_image, _points, _aligned);
        _pipeline.Embedder.Embed(_aligned, _embedding);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _image.Dispose();
        _pipeline.Dispose();
    }

    [Benchmark]
    public int Decode()
    {
        using var image = _pipeline.Decoder.Decode(_bytes);
        return image.Width;
    }

    [Benchmark]
    public int Detect() => _pipeline.Detector.Detect(_image).Count;

    [Benchmark]
    public PointF[] Landmarks() => _pipeline.Landmarks.Detect(_image, _box);

    [Benchmark]
    public float Align()
    {
        FaceAligner.Align(_image, _points, _aligned);
        return _aligned[0];
    }

    [Benchmark]
    public float Embed()
    {
        _pipeline.Embedder.Embed(_aligned, _embedding);
        return _embedding[0];
    }

    [Benchmark]
    public FaceVector ProjectAndQuantize()
    {
        _pipeline.Projection!.Apply(_embedding, _projected);
        return Quantizer.QuantizeUnit(_projected);
    }

    [Benchmark]
    public async Task<int> WholePipeline() => (await _pipeline.AnalyzeAsync(_bytes)).Count;
}

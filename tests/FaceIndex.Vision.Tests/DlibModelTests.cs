using System.Security.Cryptography;
using FaceIndex.Core;
using FaceIndex.Testing;
using FaceIndex.Vision.Conversion;
using FaceIndex.Vision.Internal;
using Microsoft.ML.OnnxRuntime;

namespace FaceIndex.Vision.Tests;

/// <summary>
/// The dlib ResNet converted by our converter: it reproduces the pinned file, agrees with an independent
/// reference forward pass on real face chips, runs with any batch size, and embeds through the pipeline.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DlibModelTests(PipelineFixture fixture)
{
    private static readonly string s_weightsDir = Path.Combine(TestPaths.Models, "face-api");
    private static readonly string s_manifest = Path.Combine(s_weightsDir, "face_recognition_model-weights_manifest.json");
    private static readonly string s_shard = Path.Combine(s_weightsDir, "face_recognition_model.bin");
    private static readonly string s_model = Path.Combine(TestPaths.Models, "dlib128.onnx");
    private readonly FacePipeline _pipeline = fixture.Pipeline;

    [Fact]
    public void The_converter_reproduces_the_pinned_model_from_the_pinned_weights()
    {
        var onnx = DlibResNetConverter.Convert(File.ReadAllBytes(s_manifest), File.ReadAllBytes(s_shard));
        var pinned = _pipeline.Registry.Dlib.Sha256;
        Assert.Equal(pinned, Convert.ToHexStringLower(SHA256.HashData(onnx)));
        Assert.Equal(pinned, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(s_model))));
    }

    [Fact]
    public void Weights_that_do_not_fit_the_network_are_refused_with_the_reason()
    {
        var manifest = File.ReadAllBytes(s_manifest);
        var shard = File.ReadAllBytes(s_shard);
        var cut = Assert.Throws<FaceIndexException>(() => DlibResNetConverter.Convert(manifest, shard.AsSpan(0, shard.Length - 1)));
        Assert.Equal(FaceIndexError.ModelMissing, cut.Error);
        Assert.Contains("shard", cut.Message, StringComparison.Ordinal);

        var renamed = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(manifest).Replace("\"fc\"", "\"fc_other\"", StringComparison.Ordinal));
        var missing = Assert.Throws<FaceIndexException>(() => DlibResNetConverter.Convert(renamed, shard));
        Assert.Contains("'fc'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_converted_model_agrees_with_an_independent_reference_forward_pass_on_real_faces()
    {
        var chips = Chips("img16.jpg", "img24.jpg");
        var reference = new DlibReference(s_manifest, s_shard);
        using var session = new InferenceSession(s_model);
        foreach (var chip in chips)
        {
            var expected = reference.Forward(chip);
            var actual = Run(session, [chip])[0];
            float maxDiff = 0, maxAbs = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - actual[i]));
                maxAbs = Math.Max(maxAbs, Math.Abs(expected[i]));
            }

            // The outputs are of order 0.1–0.3: a wrong padding or layout moves them by far more.
            Assert.InRange(maxAbs, 0.05f, 10f);
            Assert.True(maxDiff <= 1e-4f, $"max |reference − ONNX| = {maxDiff}");
        }
    }

    [Fact]
    public void The_converted_model_takes_any_batch_size()
    {
        var chips = Chips("img16.jpg", "img17.jpg", "img24.jpg");
        using var session = new InferenceSession(s_model);
        var batched = Run(session, chips);
        Assert.Equal(3, batched.Length);
        for (int f = 0; f < chips.Length; f++)
        {
            var single = Run(session, [chips[f]])[0];
            for (int i = 0; i < single.Length; i++)
            {
                Assert.Equal(single[i], batched[f][i], 4);
            }
        }
    }

    [Fact]
    public async Task The_dlib_model_embeds_the_same_person_closer_than_another()
    {
        var dlib = _pipeline.Registry.Get("dlib128-v1");
        var a = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img16.jpg"), dlib);
        var b = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img17.jpg"), dlib);
        var other = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img24.jpg"), dlib);
        Assert.Null(a.SecondaryVector);
        Assert.Equal(128, a.Embedding128.Length);
        Assert.Equal(1f, VectorMath.Dot(a.Embedding128, a.Embedding128), 4);
        float same = Similarity.Distance(a.Vector, b.Vector), different = Similarity.Distance(a.Vector, other.Vector);
        Assert.True(same < dlib.VerificationThreshold && different > dlib.VerificationThreshold, $"same {same}, different {different}, threshold {dlib.VerificationThreshold}");

        // The default model's code of the same image is another code altogether.
        var fr = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img16.jpg"));
        Assert.NotEqual(fr.Vector, a.Vector);
    }

    [Fact]
    public async Task The_fused_model_gives_both_codes_and_a_fused_distance()
    {
        var fused = _pipeline.Registry.Get("fused-v1");
        var a = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img16.jpg"), fused);
        var b = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img17.jpg"), fused);
        var other = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img24.jpg"), fused);
        var fr = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img16.jpg"));
        var dlib = await _pipeline.AnalyzeOneAsync(TestImages.Deepface("img16.jpg"), _pipeline.Registry.Get("dlib128-v1"));
        Assert.Equal(fr.Vector, a.Vector);
        Assert.Equal(dlib.Vector, a.SecondaryVector);

        float same = fused.Distance([a.Vector, a.SecondaryVector!.Value], [b.Vector, b.SecondaryVector!.Value]);
        float different = fused.Distance([a.Vector, a.SecondaryVector!.Value], [other.Vector, other.SecondaryVector!.Value]);
        Assert.True(same < fused.VerificationThreshold && different > fused.VerificationThreshold, $"same {same}, different {different}");
        Assert.Throws<ArgumentException>(() => fused.Distance([a.Vector], [b.Vector]));
    }

    [Fact]
    public void The_registry_names_each_model_and_refuses_an_unknown_one()
    {
        var registry = _pipeline.Registry;
        Assert.Equal(["fr512-pca128-v1", "dlib128-v1", "fused-v1"], registry.Models.Select(m => m.Id));
        Assert.Same(registry.Default, registry.Get(null));
        Assert.Equal(_pipeline.ModelVersion, registry.Get("fr512-pca128-v1").Id);
        Assert.Equal(2, registry.Get("fused-v1").CodesPerFace);
        var error = Assert.Throws<FaceIndexException>(() => registry.Get("arcface-r100"));
        Assert.Equal(FaceIndexError.InvalidArgument, error.Error);
        Assert.Contains("dlib128-v1", error.Message, StringComparison.Ordinal);
    }

    private float[][] Chips(params string[] files)
    {
        var chips = new List<float[]>();
        foreach (var file in files)
        {
            var prepared = _pipeline.Prepare(TestImages.Deepface(file), centreCropFallback: false, dlibChips: true);
            chips.Add(prepared.Faces[0].Chip!);
            prepared.Faces.ForEach(f => f.Release());
        }

        return [.. chips];
    }

    private static float[][] Run(InferenceSession session, float[][] chips)
    {
        int n = chips.Length;
        var input = new float[n * DlibChip.TensorLength];
        for (int i = 0; i < n; i++)
        {
            chips[i].CopyTo(input, i * DlibChip.TensorLength);
        }

        using var value = OrtValue.CreateTensorValueFromMemory(input, [n, 3, DlibChip.Size, DlibChip.Size]);
        using var outputs = session.Run(new RunOptions(), ["input"], [value], ["embedding"]);
        var flat = outputs[0].GetTensorDataAsSpan<float>();
        var result = new float[n][];
        for (int i = 0; i < n; i++)
        {
            result[i] = flat.Slice(i * 128, 128).ToArray();
        }

        return result;
    }
}

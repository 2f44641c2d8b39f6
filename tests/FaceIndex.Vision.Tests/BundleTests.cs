using FaceIndex.Core;
using FaceIndex.Testing;
using FaceIndex.Vision.Internal;

namespace FaceIndex.Vision.Tests;

/// <summary>The model bundle is verified on load; each failure names the command that repairs it.</summary>
public sealed class BundleTests
{
    private static string BundleSource => Path.Combine(TestPaths.RepoRoot, "model-bundle");

    [Fact]
    public void The_embedded_bundle_carries_the_model_version_and_a_default_threshold()
    {
        using var pipeline = FacePipeline.Create(new VisionOptions { ModelsDirectory = TestPaths.Models, Sessions = 1 });
        var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(BundleSource, "manifest.json"))).RootElement;

        Assert.Equal(manifest.GetProperty("modelVersion").GetString(), pipeline.ModelVersion);
        var verification = manifest.GetProperty("verification");
        Assert.Equal(verification.GetProperty("defaultThreshold").GetSingle(), pipeline.DefaultThreshold);
        Assert.InRange(pipeline.DefaultThreshold, 0.5f, 2f);
        Assert.Contains("celeba-dev", pipeline.DefaultThresholdSource, StringComparison.Ordinal);
    }

    [Fact]
    public void A_copied_bundle_folder_loads_like_the_embedded_one()
    {
        using var temp = TestPaths.NewTempDirectory();
        CopyBundle(temp.Path);
        using var pipeline = FacePipeline.Create(new VisionOptions { ModelsDirectory = TestPaths.Models, BundleDirectory = temp.Path, Sessions = 1 });
        Assert.Equal(128, pipeline.Projection!.OutputDimensions);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(24)]
    [InlineData(-1)]
    public void A_corrupt_projection_is_ModelMissing_naming_the_fix(int offset)
    {
        using var temp = TestPaths.NewTempDirectory();
        CopyBundle(temp.Path);
        var path = Path.Combine(temp.Path, "projection-v1.bin");
        var bytes = File.ReadAllBytes(path);
        bytes[offset < 0 ? bytes.Length + offset : offset] ^= 0x40;
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<FaceIndexException>(() => FacePipeline.Create(new VisionOptions { ModelsDirectory = TestPaths.Models, BundleDirectory = temp.Path, Sessions = 1 }));
        Assert.Equal(FaceIndexError.ModelMissing, error.Error);
        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
        Assert.Contains("faceindex models fit-projection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_projection_is_ModelMissing_naming_the_fix()
    {
        using var temp = TestPaths.NewTempDirectory();
        CopyBundle(temp.Path);
        File.Delete(Path.Combine(temp.Path, "projection-v1.bin"));

        var error = Assert.Throws<FaceIndexException>(() => FacePipeline.Create(new VisionOptions { ModelsDirectory = TestPaths.Models, BundleDirectory = temp.Path, Sessions = 1 }));
        Assert.Equal(FaceIndexError.ModelMissing, error.Error);
        Assert.Contains("faceindex models fit-projection", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fr_detect.onnx")]
    [InlineData("fr_landmark.onnx")]
    [InlineData("fr_feature.onnx")]
    public void A_missing_model_file_names_the_fetch_command(string missing)
    {
        using var temp = TestPaths.NewTempDirectory();
        foreach (var file in Directory.GetFiles(TestPaths.Models, "*.onnx"))
        {
            if (Path.GetFileName(file) != missing)
            {
                File.Copy(file, Path.Combine(temp.Path, Path.GetFileName(file)));
            }
        }

        var error = Assert.Throws<FaceIndexException>(() => FacePipeline.Create(new VisionOptions { ModelsDirectory = temp.Path, Sessions = 1 }));
        Assert.Equal(FaceIndexError.ModelMissing, error.Error);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("faceindex models fetch", error.Message, StringComparison.Ordinal);
        Assert.Contains("scripts/fetch-models.sh", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_file_with_the_wrong_checksum_names_the_fetch_command()
    {
        using var temp = TestPaths.NewTempDirectory();
        foreach (var file in Directory.GetFiles(TestPaths.Models, "*.onnx"))
        {
            File.Copy(file, Path.Combine(temp.Path, Path.GetFileName(file)));
        }

        using (var stream = File.OpenWrite(Path.Combine(temp.Path, "fr_feature.onnx")))
        {
            stream.Position = 1000;
            stream.WriteByte(0x5A);
        }

        var error = Assert.Throws<FaceIndexException>(() => FacePipeline.Create(new VisionOptions { ModelsDirectory = temp.Path, Sessions = 1 }));
        Assert.Equal(FaceIndexError.ModelMissing, error.Error);
        Assert.Contains("fr_feature.onnx", error.Message, StringComparison.Ordinal);
        Assert.Contains("faceindex models fetch", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ExecutionProvider.Cuda, "CUDA unavailable: ")]
    [InlineData(ExecutionProvider.TensorRt, "TensorRT unavailable: ")]
    public void An_explicit_gpu_provider_that_cannot_load_is_ProviderUnavailable_with_the_reason(ExecutionProvider provider, string reason)
    {
        if (GpuProbe.CudaUnavailableReason is null)
        {
            return; // A CUDA machine: scripts/gpu-check.sh covers the provider there.
        }

        var error = Assert.Throws<FaceIndexException>(() => FacePipeline.Create(new VisionOptions { ModelsDirectory = TestPaths.Models, Provider = provider, Sessions = 1 }));
        Assert.Equal(FaceIndexError.ProviderUnavailable, error.Error);
        Assert.Contains($"Vision:Provider is {provider} but {reason}", error.Message, StringComparison.Ordinal);
        Assert.Matches(@"unavailable: (lib[a-zA-Z0-9_]+\.so\.[0-9]+ not found|no CUDA device|.+)\.", error.Message);
        Assert.Contains("Provider=Auto or Cpu", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_runs_on_the_cpu_without_cuda_and_says_why_in_one_log_line()
    {
        var logs = new LineCollector();
        await using var pipeline = FacePipeline.Create(new VisionOptions { ModelsDirectory = TestPaths.Models, Sessions = 1 }, logs);
        if (GpuProbe.CudaUnavailableReason is null)
        {
            Assert.Equal(ExecutionProvider.Cuda, pipeline.ExecutionProvider);
            return;
        }

        Assert.Equal(ExecutionProvider.Cpu, pipeline.ExecutionProvider);
        var line = Assert.Single(logs.Lines, l => l.Contains("providers:", StringComparison.Ordinal));
        Assert.Contains($"detector Cpu, landmarks Cpu, embedder Cpu (auto: CUDA unavailable: {GpuProbe.CudaUnavailableReason})", line, StringComparison.Ordinal);
        Assert.Contains($"up to {VisionOptions.CpuMaxBatch} faces per inference, waiting up to 0 ms for a batch", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dynamic_batch_models_are_derived_on_load_cached_and_re_derived_when_corrupt()
    {
        using var temp = TestPaths.NewTempDirectory();
        foreach (var file in new[] { "fr_detect.onnx", "fr_landmark.onnx", "fr_feature.onnx" })
        {
            File.Copy(Path.Combine(TestPaths.Models, file), Path.Combine(temp.Path, file));
        }

        var options = new VisionOptions { ModelsDirectory = temp.Path, Sessions = 1, Provider = ExecutionProvider.Cpu };
        await using (var pipeline = FacePipeline.Create(options))
        {
            Assert.NotEmpty(await pipeline.AnalyzeAsync(TestImages.Deepface("img17.jpg")));
        }

        var derived = Path.Combine(temp.Path, "fr_feature.batch.onnx");
        Assert.True(File.Exists(derived));
        Assert.True(File.Exists(Path.Combine(temp.Path, "fr_landmark.batch.onnx")));
        var good = File.ReadAllBytes(derived);
        File.WriteAllBytes(derived, good.AsSpan(0, good.Length / 2).ToArray());
        await using (FacePipeline.Create(options))
        {
        }

        Assert.Equal(good, File.ReadAllBytes(derived));
    }

    [Fact]
    public void A_manifest_with_an_impossible_threshold_is_refused()
    {
        using var temp = TestPaths.NewTempDirectory();
        CopyBundle(temp.Path);
        var path = Path.Combine(temp.Path, "manifest.json");
        var text = File.ReadAllText(path);
        var node = System.Text.Json.Nodes.JsonNode.Parse(text)!;
        node["verification"]!["defaultThreshold"] = 7.5;
        File.WriteAllText(path, node.ToJsonString());

        var error = Assert.Throws<FaceIndexException>(() => FacePipeline.Create(new VisionOptions { ModelsDirectory = TestPaths.Models, BundleDirectory = temp.Path, Sessions = 1 }));
        Assert.Equal(FaceIndexError.ModelMissing, error.Error);
        Assert.Contains("defaultThreshold", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(VisionOptions.IntraOpThreads))]
    [InlineData(nameof(VisionOptions.DetectionThreshold))]
    [InlineData(nameof(VisionOptions.MaxPixels))]
    public void An_invalid_option_names_the_setting(string setting)
    {
        var options = new VisionOptions { ModelsDirectory = TestPaths.Models };
        switch (setting)
        {
            case nameof(VisionOptions.IntraOpThreads):
                options.IntraOpThreads = 0;
                break;
            case nameof(VisionOptions.DetectionThreshold):
                options.DetectionThreshold = 1.5f;
                break;
            default:
                options.MaxPixels = 10;
                break;
        }

        var error = Assert.Throws<ArgumentException>(() => FacePipeline.Create(options));
        Assert.Contains("Vision:" + setting, error.Message, StringComparison.Ordinal);
    }

    private static void CopyBundle(string destination)
    {
        foreach (var file in Directory.GetFiles(BundleSource))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }
    }
}

using System.Text.Json;
using FaceIndex.Testing;

namespace FaceIndex.Cli.Tests;

/// <summary><c>faceindex eval</c> on real pair lists.</summary>
public sealed class EvalTests
{
    private static string MasterCsv => TestPaths.Faces("deepface", "master.csv");

    [Fact]
    public async Task Eval_on_deepface_pairs_reaches_99_percent_and_a_rerun_uses_the_cache()
    {
        using var cache = TestPaths.NewTempDirectory();
        var (exit, output) = await CliRunner.RunAsync("eval", MasterCsv, "--models", CliRunner.Models, "--cache", cache.Path, "--flip", "both", "--json");
        Assert.Equal(0, exit);
        var first = JsonDocument.Parse(output).RootElement;
        Assert.Equal(300, first.GetProperty("pairs").GetInt32());
        Assert.Equal(38, first.GetProperty("samePairs").GetInt32());
        Assert.Equal(25, first.GetProperty("images").GetInt32());
        Assert.Equal(0, first.GetProperty("cacheHits").GetInt32());
        Assert.Equal(0, first.GetProperty("centreCropImages").GetInt32());
        Assert.Equal(0, first.GetProperty("unreadableImages").GetInt32());

        var results = first.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(6, results.Count);
        foreach (var r in results)
        {
            Assert.True(r.GetProperty("meanAccuracy").GetDouble() >= 0.99, r.ToString());
            Assert.Equal(10, r.GetProperty("foldAccuracies").GetArrayLength());
        }

        var int8 = results.Single(r => r.GetProperty("code").GetString() == "int8-128" && !r.GetProperty("flip").GetBoolean());
        Assert.True(int8.GetProperty("accuracyAtDefaultThreshold").GetDouble() >= 0.97);
        Assert.Equal(JsonValueKind.Null, int8.GetProperty("tarAtFar").ValueKind);

        var (exit2, output2) = await CliRunner.RunAsync("eval", MasterCsv, "--models", CliRunner.Models, "--cache", cache.Path, "--flip", "both", "--json");
        Assert.Equal(0, exit2);
        var second = JsonDocument.Parse(output2).RootElement;
        Assert.Equal(25, second.GetProperty("cacheHits").GetInt32());
        Assert.Equal(
            results.Select(r => r.GetProperty("meanAccuracy").GetDouble()),
            second.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("meanAccuracy").GetDouble()));
    }

    [Fact]
    public async Task Eval_takes_the_model_choice_and_the_fused_model_needs_both_embedders()
    {
        using var cache = TestPaths.NewTempDirectory();
        var accuracies = new Dictionary<string, double>();
        foreach (var model in new[] { "dlib128-v1", "fused-v1" })
        {
            var (exit, output) = await CliRunner.RunAsync("eval", MasterCsv, "--models", CliRunner.Models, "--cache", cache.Path, "--model", model, "--code", "float512", "int8", "--json");
            Assert.Equal(0, exit);
            var root = JsonDocument.Parse(output).RootElement;
            Assert.Equal(model, root.GetProperty("modelVersion").GetString());
            var results = root.GetProperty("results").EnumerateArray().ToList();

            // The dlib model has no 512-D representation; the fused one fuses fr512's with dlib's float.
            Assert.Equal(model == "dlib128-v1" ? ["int8-128"] : ["float512", "int8-128"], results.Select(r => r.GetProperty("code").GetString()));
            var int8 = results.Single(r => r.GetProperty("code").GetString() == "int8-128");
            accuracies[model] = int8.GetProperty("meanAccuracy").GetDouble();
        }

        Assert.All(accuracies.Values, a => Assert.True(a >= 0.99, string.Join(", ", accuracies)));

        var (bad, message) = await CliRunner.RunAsync("eval", MasterCsv, "--models", CliRunner.Models, "--no-cache", "--model", "arcface-r100");
        Assert.NotEqual(0, bad);
        Assert.Contains("fused-v1", message, StringComparison.Ordinal);

        // deepface's images share one folder: every pair would count as "same".
        var (flat, why) = await CliRunner.RunAsync("eval", MasterCsv, "--models", CliRunner.Models, "--cache", cache.Path, "--model", "dlib128-v1", "--all-pairs");
        Assert.NotEqual(0, flat);
        Assert.Contains("one folder per identity", why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_prints_a_table_with_the_counts()
    {
        var (exit, output) = await CliRunner.RunAsync("eval", MasterCsv, "--models", CliRunner.Models, "--no-cache", "--code", "int8", "float512");
        Assert.Equal(0, exit);
        Assert.Contains("300 pairs (38 same, 262 different) in 10 folds", output, StringComparison.Ordinal);
        Assert.Contains("no face detected: 0 images", output, StringComparison.Ordinal);
        Assert.Contains("int8-128", output, StringComparison.Ordinal);
        Assert.Contains("float512", output, StringComparison.Ordinal);
        Assert.DoesNotContain("float128", output, StringComparison.Ordinal);
        Assert.Contains("chosen on ../shared/faces/celeba-dev/pairs.txt", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Images_without_a_face_are_counted_not_dropped()
    {
        // A pair list whose second image is a picture without a face, and one whose file is missing.
        using var temp = TestPaths.NewTempDirectory();
        using (var bitmap = new SkiaSharp.SKBitmap(250, 250))
        {
            bitmap.Erase(new SkiaSharp.SKColor(90, 120, 150));
            using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(temp.Path, "wall.png"), data.ToArray());
        }

        File.Copy(CliRunner.Deepface("img16.jpg"), Path.Combine(temp.Path, "a.jpg"));
        File.Copy(CliRunner.Deepface("img17.jpg"), Path.Combine(temp.Path, "b.jpg"));
        File.Copy(CliRunner.Deepface("img12.jpg"), Path.Combine(temp.Path, "c.jpg"));
        var lines = new List<string> { "file_x,file_y,Decision" };
        for (int i = 0; i < 10; i++)
        {
            lines.Add("a.jpg,b.jpg,Yes");
            lines.Add(i == 0 ? "a.jpg,wall.png,No" : i == 1 ? "a.jpg,missing.jpg,No" : "a.jpg,c.jpg,No");
        }

        var pairs = Path.Combine(temp.Path, "pairs.csv");
        File.WriteAllLines(pairs, lines);
        var (exit, output) = await CliRunner.RunAsync("eval", pairs, "--models", CliRunner.Models, "--no-cache", "--json");
        Assert.Equal(0, exit);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal(20, result.GetProperty("pairs").GetInt32());
        Assert.Equal(1, result.GetProperty("centreCropImages").GetInt32());
        Assert.Equal(1, result.GetProperty("centreCropPairs").GetInt32());
        Assert.Equal(1, result.GetProperty("unreadableImages").GetInt32());
        Assert.Equal(1, result.GetProperty("unreadablePairs").GetInt32());
    }

    [Fact]
    public async Task A_malformed_pairs_file_is_an_error_naming_the_line()
    {
        using var temp = TestPaths.NewTempDirectory();
        var pairs = Path.Combine(temp.Path, "pairs.txt");
        File.WriteAllText(pairs, "10\t300\nonly-one-field\n");
        var (exit, output) = await CliRunner.RunAsync("eval", pairs, "--models", CliRunner.Models);
        Assert.Equal(2, exit);
        Assert.Contains("line 2", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_models_name_the_fetch_command()
    {
        using var empty = TestPaths.NewTempDirectory();
        var (exit, output) = await CliRunner.RunAsync("eval", MasterCsv, "--models", empty.Path);
        Assert.Equal(2, exit);
        Assert.Contains("ModelMissing", output, StringComparison.Ordinal);
        Assert.Contains("faceindex models fetch", output, StringComparison.Ordinal);
    }
}

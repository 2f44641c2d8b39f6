using System.Text.Json;
using FaceIndex.Testing;

namespace FaceIndex.Cli.Tests;

/// <summary><c>faceindex verify</c>, <c>embed</c> and <c>models fetch</c> on real images.</summary>
public sealed class VerbTests
{
    [Fact]
    public async Task Verify_says_same_for_a_known_same_pair()
    {
        var (exit, output) = await CliRunner.RunAsync("verify", CliRunner.Deepface("img16.jpg"), CliRunner.Deepface("img17.jpg"), "--models", CliRunner.Models);
        Assert.Equal(0, exit);
        Assert.Contains("same person", output, StringComparison.Ordinal);
        Assert.DoesNotContain("different people", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_says_different_for_a_known_different_pair()
    {
        var (exit, output) = await CliRunner.RunAsync("verify", CliRunner.Deepface("img16.jpg"), CliRunner.Deepface("img12.jpg"), "--models", CliRunner.Models);
        Assert.Equal(0, exit);
        Assert.Contains("different people", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_takes_a_threshold_and_prints_json()
    {
        var (exit, output) = await CliRunner.RunAsync("verify", CliRunner.Deepface("img16.jpg"), CliRunner.Deepface("img17.jpg"), "--models", CliRunner.Models, "--json");
        Assert.Equal(0, exit);
        var result = JsonDocument.Parse(output).RootElement;
        float distance = result.GetProperty("distance").GetSingle();
        Assert.True(result.GetProperty("same").GetBoolean());
        Assert.InRange(distance, 0f, result.GetProperty("threshold").GetSingle());
        Assert.Equal(1 - (distance / 2), result.GetProperty("cosine").GetSingle(), 4);

        // Just under the pair's distance, the same pair is judged different.
        var tight = (distance * 0.99f).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (exit2, output2) = await CliRunner.RunAsync("verify", CliRunner.Deepface("img16.jpg"), CliRunner.Deepface("img17.jpg"), "--models", CliRunner.Models, "--threshold", tight);
        Assert.Equal(0, exit2);
        Assert.Contains("different people", output2, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_with_an_image_without_a_face_is_a_NoFace_error()
    {
        using var temp = TestPaths.NewTempDirectory();
        var wall = Path.Combine(temp.Path, "wall.png");
        using (var bitmap = new SkiaSharp.SKBitmap(300, 300))
        {
            bitmap.Erase(new SkiaSharp.SKColor(200, 190, 180));
            using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(wall, data.ToArray());
        }

        var (exit, output) = await CliRunner.RunAsync("verify", CliRunner.Deepface("img16.jpg"), wall, "--models", CliRunner.Models);
        Assert.Equal(2, exit);
        Assert.Contains("NoFace", output, StringComparison.Ordinal);
        Assert.Contains("wall.png", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embed_prints_every_face_with_its_128_byte_code()
    {
        var (exit, output) = await CliRunner.RunAsync("embed", CliRunner.Deepface("couple.jpg"), CliRunner.Deepface("img12.jpg"), "--models", CliRunner.Models, "--json");
        Assert.Equal(0, exit);
        var images = JsonDocument.Parse(output).RootElement.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(2, images.Count);
        Assert.Equal(2, images[0].GetProperty("faces").GetArrayLength());
        Assert.Equal(1, images[1].GetProperty("faces").GetArrayLength());
        foreach (var face in images.SelectMany(i => i.GetProperty("faces").EnumerateArray()))
        {
            Assert.Equal(128, Convert.FromBase64String(face.GetProperty("vector").GetString()!).Length);
            Assert.InRange(face.GetProperty("score").GetSingle(), 0.6f, 1f);
            Assert.True(face.GetProperty("box").GetProperty("width").GetSingle() > 20);
            Assert.Equal(5, face.GetProperty("landmarks").GetArrayLength());
        }

        var (exitText, text) = await CliRunner.RunAsync("embed", CliRunner.Deepface("img12.jpg"), "--models", CliRunner.Models);
        Assert.Equal(0, exitText);
        Assert.Contains("1 face(s)", text, StringComparison.Ordinal);
        Assert.Contains(images[1].GetProperty("faces")[0].GetProperty("vector").GetString()!, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embed_reports_a_non_image_and_carries_on()
    {
        var (exit, output) = await CliRunner.RunAsync("embed", TestPaths.Faces("deepface", "master.csv"), CliRunner.Deepface("img12.jpg"), "--models", CliRunner.Models);
        Assert.Equal(2, exit);
        Assert.Contains("ImageUnreadable", output, StringComparison.Ordinal);
        Assert.Contains("1 face(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_fetch_with_every_model_present_touches_nothing()
    {
        var manifest = Path.Combine(TestPaths.RepoRoot, "model-bundle", "manifest.json");
        var (exit, output) = await CliRunner.RunAsync("models", "fetch", "--models", CliRunner.Models, "--manifest", manifest);
        Assert.Equal(0, exit);
        Assert.Contains("nothing to fetch", output, StringComparison.Ordinal);
    }
}

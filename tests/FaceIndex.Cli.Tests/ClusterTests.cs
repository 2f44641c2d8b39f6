using FaceIndex.Testing;

namespace FaceIndex.Cli.Tests;

/// <summary><c>faceindex cluster --images</c> over the deepface photographs, scored against their identities.</summary>
public sealed class ClusterTests
{
    private static string Labels => Path.Combine(TestPaths.RepoRoot, "bench", "labels", "deepface.csv");

    [Fact]
    public async Task The_deepface_label_file_agrees_with_every_pair_of_master_csv()
    {
        var labels = (await FaceIndex.Clustering.LabelFile.ReadAsync(Labels)).ToDictionary(e => e.Key, e => e.Label);
        var pairs = (await File.ReadAllLinesAsync(TestPaths.Faces("deepface", "master.csv"))).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.NotEmpty(pairs);
        foreach (var pair in pairs)
        {
            bool same = labels.TryGetValue(pair[0], out var a) && labels.TryGetValue(pair[1], out var b) && a == b;
            Assert.True(same == (pair[2].Trim() == "Yes"), string.Join(',', pair));
        }
    }

    [Fact]
    public async Task Clustering_the_deepface_images_keeps_identities_apart_and_mostly_together()
    {
        using var dir = TestPaths.NewTempDirectory();
        var output = Path.Combine(dir.Path, "members.csv");
        var (exit, text) = await CliRunner.RunAsync("cluster", "--images", TestPaths.Faces("deepface"), "--eval", Labels, "--output", output, "--models", CliRunner.Models);

        Assert.True(exit == 0, text);
        Assert.Contains("evaluated 25 labelled faces: 9 identities", text, StringComparison.Ordinal);
        Assert.Contains("0 labels without a clustered face", text, StringComparison.Ordinal);

        // No two people share a cluster; at most a couple of photographs are split off their person.
        var bcubed = System.Text.RegularExpressions.Regex.Match(text, @"BCubed\s*│\s*([0-9.]+)\s*│\s*([0-9.]+)\s*│\s*([0-9.]+)");
        Assert.True(bcubed.Success, text);
        Assert.Equal("1.0000", bcubed.Groups[1].Value);
        Assert.True(double.Parse(bcubed.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) >= 0.95, text);
        var members = (await File.ReadAllLinesAsync(output)).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(Directory.GetFiles(TestPaths.Faces("deepface"), "*.jpg").Length, members.Count);
        Assert.Contains(members, m => m[0] == "img1.jpg");
    }

    [Fact]
    public async Task Conflicting_or_misplaced_options_are_refused_with_a_message()
    {
        var (exit, text) = await CliRunner.RunAsync("cluster", "--images", TestPaths.Faces("deepface"), "--data", "somewhere");
        Assert.Equal(2, exit);
        Assert.Contains("--data and --images exclude each other", text, StringComparison.Ordinal);

        (exit, text) = await CliRunner.RunAsync("cluster", "--eval", "folders", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, exit);
        Assert.Contains("--eval folders needs --images", text, StringComparison.Ordinal);
    }
}

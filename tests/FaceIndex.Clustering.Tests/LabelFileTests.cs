namespace FaceIndex.Clustering.Tests;

public sealed class LabelFileTests
{
    [Fact]
    public async Task Reads_ids_and_paths_skipping_header_comments_and_blank_lines()
    {
        const string text = "key,label\n# comment\n\n42,alice\n/faces/a,b/c.jpg , bob \n7,alice\n";

        var entries = await LabelFile.ReadAsync(new StringReader(text));

        Assert.Equal(
            [new LabelEntry("42", "alice"), new LabelEntry("/faces/a,b/c.jpg", "bob"), new LabelEntry("7", "alice")],
            entries);
    }

    [Fact]
    public async Task The_header_may_follow_comments_but_only_the_first_entry_is_a_header()
    {
        var entries = await LabelFile.ReadAsync(new StringReader("# about this file\n\nkey,label\n1,a\nkey,label\n"));

        Assert.Equal([new LabelEntry("1", "a"), new LabelEntry("key", "label")], entries);
    }

    [Theory]
    [InlineData("42\n")]
    [InlineData("42,\n")]
    [InlineData(",alice\n")]
    [InlineData("1,a\n ,b\n")]
    public async Task Malformed_lines_are_reported_with_their_number(string text)
    {
        var error = await Assert.ThrowsAsync<FormatException>(() => LabelFile.ReadAsync(new StringReader(text)));

        Assert.Contains("line", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_written_file_reads_back()
    {
        using var dir = FaceIndex.Testing.TestPaths.NewTempDirectory();
        var path = Path.Combine(dir.Path, "labels.csv");
        LabelEntry[] entries = [new("1", "x"), new("some/path.png", "y")];
        await using (var writer = File.CreateText(path))
        {
            await LabelFile.WriteAsync(writer, entries);
        }

        Assert.Equal(entries, await LabelFile.ReadAsync(path));
    }
}

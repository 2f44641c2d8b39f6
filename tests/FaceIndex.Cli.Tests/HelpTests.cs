namespace FaceIndex.Cli.Tests;

/// <summary>Every verb answers --help with its usage.</summary>
public sealed class HelpTests
{
    [Theory]
    [InlineData("", "models")]
    [InlineData("embed", "IMAGE")]
    [InlineData("verify", "--threshold")]
    [InlineData("eval", "--images")]
    [InlineData("models", "fit-projection")]
    [InlineData("models fetch", "--manifest")]
    [InlineData("models fit-projection", "--dims")]
    [InlineData("cluster-status", "in sync")]
    public async Task Help_describes_the_verb(string verb, string expected)
    {
        var args = verb.Length == 0 ? new[] { "--help" } : [.. verb.Split(' '), "--help"];
        var (exit, output) = await CliRunner.RunAsync(args);
        Assert.Equal(0, exit);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_help_lists_the_codes_and_flip_modes()
    {
        var (_, output) = await CliRunner.RunAsync("eval", "--help");
        Assert.Contains("float512", output, StringComparison.Ordinal);
        Assert.Contains("int8", output, StringComparison.Ordinal);
        Assert.Contains("--flip", output, StringComparison.Ordinal);
        Assert.Contains("--cache", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_verb_fails()
    {
        var (exit, _) = await CliRunner.RunAsync("enroll-everything");
        Assert.NotEqual(0, exit);
    }
}

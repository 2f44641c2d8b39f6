using Xunit.Abstractions;

namespace FaceIndex.CrashTests;

/// <summary>
/// The bounded form of the crash harness that CI runs: four kill points of the real server process
/// (during enrol, during delete, during a store checkpoint, during an index snapshot), each followed
/// by a restart and the full set of checks. The tool (Program.cs) runs the same with more kill points.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Nothing_acknowledged_is_lost_across_kill_points()
    {
        using var log = new StringWriter();
        var report = await CrashHarness.RunAsync(new CrashOptions(Runs: 4, Seed: 20261201, Images: true, log));
        output.WriteLine(log.ToString());
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(4, report.Runs);
        Assert.True(report.AcknowledgedFaces > 100, $"the load was too small to prove anything: {report}");
        Assert.True(report.AcknowledgedDeletes > 10, $"too few deletes: {report}");
    }
}

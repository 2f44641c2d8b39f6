using Xunit.Abstractions;

namespace FaceIndex.CrashTests;

/// <summary>
/// The bounded form of the crash harness that CI runs: four kill points of the real server process
/// (clients cancelling writes mid-call, with the live "stored ⇒ searchable" check before the kill;
/// during delete; during a store checkpoint; during an index snapshot), each followed by a restart and
/// the full set of checks. Every kill point runs an enrol load, so the plain enrol point is left to the
/// tool (Program.cs), which runs all five in turn with more kill points.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Nothing_acknowledged_is_lost_across_kill_points()
    {
        using var log = new StringWriter();
        var report = await CrashHarness.RunAsync(new CrashOptions(Runs: 4, Seed: 20261201, Images: true, log, Points: [KillPoint.Cancel, KillPoint.Delete, KillPoint.Checkpoint, KillPoint.Snapshot]));
        output.WriteLine(log.ToString());
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(4, report.Runs);
        Assert.True(report.AcknowledgedFaces > 100, $"the load was too small to prove anything: {report}");
        Assert.True(report.AcknowledgedDeletes > 10, $"too few deletes: {report}");
        Assert.True(report.CancelledEnrols > 10 && report.CancelledStored > 0, $"the cancel point cancelled too little to prove anything: {report}");
        Assert.True(report.LiveSearchesChecked > 100, $"the live check searched too little: {report}");
    }
}

namespace FaceIndex.Vision.Tests;

/// <summary>
/// Search thresholds from an FPIR target and a gallery size: the grid's own points come back, values between
/// them are interpolated, a larger gallery or a lower FPIR gives a stricter threshold, and a malformed grid is refused.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class OpenSetCalibrationTests(PipelineFixture fixture)
{
    private static readonly OpenSetCalibration s_grid = new(
        [10, 1000],
        [0.01, 0.1],
        [[1.2f, 1.4f], [1.0f, 1.2f]]);

    [Fact]
    public void Grid_points_come_back_and_values_between_them_are_interpolated_in_logs()
    {
        Assert.Equal(1.2f, s_grid.ThresholdFor(0.01, 10), 4);
        Assert.Equal(1.4f, s_grid.ThresholdFor(0.1, 10), 4);
        Assert.Equal(1.0f, s_grid.ThresholdFor(0.01, 1000), 4);

        // Half-way in log(size) and in log(FPIR): the mean of the four corners.
        Assert.Equal(1.2f, s_grid.ThresholdFor(Math.Sqrt(0.001), 100), 4);

        // Below the smallest gallery (an empty one counts as one face) the first row holds; below the lowest FPIR the first column.
        Assert.Equal(1.2f, s_grid.ThresholdFor(0.01, 0), 4);
        Assert.Equal(1.2f, s_grid.ThresholdFor(0.001, 3), 4);

        // Beyond the largest gallery the slope of the last two rows goes on.
        Assert.Equal(0.85f, s_grid.ThresholdFor(0.01, 31_623), 3);
    }

    [Theory]
    [InlineData("fr512-pca128-v1")]
    [InlineData("dlib128-v1")]
    public void The_shipped_calibrations_are_stricter_for_larger_galleries_and_lower_targets(string model)
    {
        // fr512's grid is the manifest's; dlib128's is its own in models.json; the fused model has none.
        var entry = fixture.Pipeline.Registry.Get(model);
        var calibration = model == fixture.Pipeline.ModelVersion ? fixture.Pipeline.OpenSet : entry.OpenSet;
        Assert.NotNull(calibration);
        Assert.Null(fixture.Pipeline.Registry.Get("fused-v1").OpenSet);
        float previous = float.PositiveInfinity;
        foreach (long size in new long[] { 1, 10, 100, 1_000, 10_000, 100_000 })
        {
            float t = calibration.ThresholdFor(0.01, size);
            Assert.True(t <= previous, $"gallery {size}: threshold {t} above the smaller gallery's {previous}");
            Assert.True(t < calibration.ThresholdFor(0.1, size), $"gallery {size}: FPIR 1 % not stricter than 10 %");
            Assert.InRange(t, 0.01f, 3.99f);
            previous = t;
        }

        // A 1 % target at 1,000 faces is stricter than the fixed identification threshold chosen per comparison.
        Assert.True(calibration.ThresholdFor(0.01, 1_000) < entry.IdentificationThreshold);
    }

    [Fact]
    public void A_malformed_grid_is_refused_with_the_rule_it_breaks()
    {
        var decreasing = Assert.Throws<ArgumentException>(() => new OpenSetCalibration([10], [0.01, 0.1], [[1.4f, 1.2f]]));
        Assert.Contains("not decrease as the FPIR grows", decreasing.Message, StringComparison.Ordinal);
        var sizes = Assert.Throws<ArgumentException>(() => new OpenSetCalibration([100, 10], [0.01, 0.1], [[1.2f, 1.4f], [1.2f, 1.4f]]));
        Assert.Contains("increasing", sizes.Message, StringComparison.Ordinal);
        var ragged = Assert.Throws<ArgumentException>(() => new OpenSetCalibration([10], [0.01, 0.1], [[1.2f]]));
        Assert.Contains("one threshold per FPIR", ragged.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => s_grid.ThresholdFor(1.0, 10));
    }
}

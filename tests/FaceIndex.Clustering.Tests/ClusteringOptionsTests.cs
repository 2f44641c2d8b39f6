namespace FaceIndex.Clustering.Tests;

public sealed class ClusteringOptionsTests
{
    [Fact]
    public void Defaults_are_valid()
    {
        new ClusteringOptions().Validate();
    }

    [Theory]
    [InlineData(nameof(ClusteringOptions.Threshold))]
    [InlineData(nameof(ClusteringOptions.K))]
    [InlineData(nameof(ClusteringOptions.Ef))]
    [InlineData(nameof(ClusteringOptions.MinSharedNeighbors))]
    [InlineData(nameof(ClusteringOptions.MaxRadius))]
    [InlineData(nameof(ClusteringOptions.MaxIterations))]
    [InlineData(nameof(ClusteringOptions.MaxDegreeOfParallelism))]
    [InlineData(nameof(ClusteringOptions.Algorithm))]
    public void An_invalid_setting_is_named(string setting)
    {
        var options = new ClusteringOptions();
        switch (setting)
        {
            case nameof(ClusteringOptions.Threshold): options.Threshold = 0; break;
            case nameof(ClusteringOptions.K): options.K = 256; break;
            case nameof(ClusteringOptions.Ef): options.Ef = -1; break;
            case nameof(ClusteringOptions.MinSharedNeighbors): options.MinSharedNeighbors = -1; break;
            case nameof(ClusteringOptions.MaxRadius): options.MaxRadius = float.NaN; break;
            case nameof(ClusteringOptions.MaxIterations): options.MaxIterations = 0; break;
            case nameof(ClusteringOptions.MaxDegreeOfParallelism): options.MaxDegreeOfParallelism = -2; break;
            default: options.Algorithm = (ClusteringAlgorithm)77; break;
        }

        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(setting, error.ParamName);
    }

    [Fact]
    public void Derived_radius_is_that_of_a_cloud_pairwise_at_the_threshold()
    {
        // Many unit vectors pairwise at cosine c have a mean whose cosine with each tends to √c.
        var options = new ClusteringOptions { Threshold = 0.84f };
        double c = 1 - (0.84 / 2);

        Assert.Equal(2 - (2 * Math.Sqrt(c)), options.EffectiveMaxRadius, 5);
        Assert.Equal(0.3f, new ClusteringOptions { MaxRadius = 0.3f }.EffectiveMaxRadius);
    }
}

using FaceIndex.Testing;

namespace FaceIndex.Vision.Tests;

/// <summary>One pipeline over the real models, shared by every test class of the "Pipeline" collection.</summary>
public sealed class PipelineFixture : IAsyncLifetime
{
    private FacePipeline? _pipeline;

    /// <summary>The shared pipeline (default options, two sessions: the CI machine has two cores).</summary>
    public FacePipeline Pipeline => _pipeline ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>Default options over the repository's models folder.</summary>
    public static VisionOptions Options() => new() { ModelsDirectory = TestPaths.Models, Sessions = 2 };

    public Task InitializeAsync()
    {
        _pipeline = FacePipeline.Create(Options());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_pipeline is not null)
        {
            await _pipeline.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PipelineCollection : ICollectionFixture<PipelineFixture>
{
    public const string Name = "Pipeline";
}

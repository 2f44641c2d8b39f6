using FaceIndex.Clustering;
using FaceIndex.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using static FaceIndex.Engine.Tests.DatabaseFixture;

namespace FaceIndex.Engine.Tests;

public sealed class ClusteringJobsTests
{
    [Fact]
    public async Task A_clustering_that_a_crash_cut_short_is_failed_at_the_next_start_and_a_new_run_succeeds()
    {
        using var dir = TestPaths.NewTempDirectory();

        // What a kill leaves behind: the record written before StartClustering answered, still "running".
        var crashed = new ClusteringJob("crashed0123", FaceDatabase.DefaultCollection, new ClusteringOptions { K = 12, Seed = 5 });
        crashed.Report("knn-graph", 0.4);
        await using (var database = await OpenAsync(dir))
        {
            for (int sample = 0; sample < 10; sample++)
            {
                await EnrollAsync(database, sample * 10_000, 10);
            }

            await database.PutBlobAsync(StoredOperation.Key(crashed.Id), crashed.Record().Serialize());
        }

        for (int restart = 0; restart < 2; restart++)
        {
            await using var database = await OpenAsync(dir);
            var jobs = new ClusteringJobs(() => database, () => 1.0f, NullLogger<ClusteringJobs>.Instance);
            await jobs.StartAsync();
            Assert.True(jobs.TryGet(crashed.Id, out var restored));
            var (state, phase, progress, error, finishedAt, _) = restored.Snapshot();
            Assert.Equal(JobState.Failed, state);
            Assert.Equal("The server stopped (crash or kill) while the clustering ran; start it again.", error);
            Assert.Equal("knn-graph", phase);
            Assert.Equal(0.4, progress, 3);
            Assert.NotNull(finishedAt);

            var (started, running) = await jobs.StartRunAsync(FaceDatabase.DefaultCollection, new ClusteringOptions { K = 12, Seed = 5 }, CancellationToken.None);
            Assert.Null(running);
            Assert.NotNull(started);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (!started.IsFinished)
            {
                await Task.Delay(20, timeout.Token);
            }

            Assert.Equal(JobState.Succeeded, started.State);
            Assert.Equal(10, started.ClusterCount);
            await jobs.StopAsync();
        }
    }
}

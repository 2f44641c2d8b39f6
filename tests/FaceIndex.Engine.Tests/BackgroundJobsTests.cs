using FaceIndex.Clustering;
using FaceIndex.Core;
using FaceIndex.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using static FaceIndex.Engine.Tests.DatabaseFixture;

namespace FaceIndex.Engine.Tests;

public sealed class BackgroundJobsTests
{
    [Fact]
    public async Task A_clustering_that_a_crash_cut_short_is_failed_at_the_next_start_and_a_new_run_succeeds()
    {
        using var dir = TestPaths.NewTempDirectory();

        // What a kill leaves behind: the record written before StartClustering answered, still "running".
        var crashed = new BackgroundJob("crashed0123", FaceDatabase.DefaultCollection, new ClusteringOptions { K = 12, Seed = 5 });
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
            var jobs = new BackgroundJobs(() => database, () => 1.0f, NullLogger<BackgroundJobs>.Instance);
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
            Assert.Equal(10, started.Count);
            await jobs.StopAsync();
        }
    }
}

/// <summary>
/// A migration as the engine runs it: every person, face, image hash, tag and metadata copied into a new
/// collection of another model with its codes recoded, searchable there; the source untouched; a copy
/// cut short by a crash reported with what to do; a cancelled one leaves no partial collection.
/// </summary>
public sealed class MigrationJobTests
{
    private const string Target = "migrated";
    private const string TargetModel = "other-model-v1";

    [Fact]
    public async Task A_migration_copies_every_person_and_face_with_recoded_vectors_and_leaves_the_source_as_it_was()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using var database = await OpenAsync(dir);
        await EnrollAsync(database, 0, 150);
        // Two faces of one image of one person, with tags, and a person with metadata.
        var hash = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var tags = new Dictionary<string, string> { ["camera"] = "gate" };
        await database.AddFacesAsync(FaceDatabase.DefaultCollection, "group", [Face(500), Face(501)], Model, hash, tags);
        await database.SetPersonMetadataAsync(FaceDatabase.DefaultCollection, "p7", new Dictionary<string, string> { ["name"] = "Seven" });

        var jobs = new BackgroundJobs(() => database, () => 1.0f, NullLogger<BackgroundJobs>.Instance);
        await jobs.StartAsync();
        var copied = new List<CopiedFace>();
        var job = await jobs.StartMigrationAsync(FaceDatabase.DefaultCollection, new MigrationSpec(Target, TargetModel), face => new FaceCodes(Negate(face.Vector), null), (pairs, _) =>
        {
            lock (copied)
            {
                copied.AddRange(pairs);
            }

            return Task.CompletedTask;
        }, CancellationToken.None);
        await WaitAsync(job);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(152, job.Count);
        Assert.Equal(152, copied.Count);

        Assert.True(database.TryGetCollection(Target, out var target));
        Assert.Equal((TargetModel, 152L, 151L), (target.ModelVersion, target.FaceCount, target.PersonCount));
        Assert.True(database.TryGetCollection(FaceDatabase.DefaultCollection, out var source));
        Assert.Equal((152L, 151L), (source.FaceCount, source.PersonCount));
        Assert.True(database.TryGetPerson(Target, "p7", out var seven));
        Assert.Equal("Seven", seven.Metadata["name"]);

        // Each copy holds the recoded vector of its original, and is found by it in the new collection.
        await database.WaitForIndexingAsync();
        foreach (var (from, to) in copied)
        {
            Assert.True(database.TryGetFace(from, out var original));
            Assert.True(database.TryGetFace(to, out var copy));
            Assert.Equal((Target, original.PersonId, TargetModel), (copy.Collection, copy.PersonId, copy.ModelVersion));
            Assert.Equal(Negate(original.Vector).AsSpan().ToArray(), copy.Vector.AsSpan().ToArray());
            Assert.Equal(to, Nearest(database, copy.Vector, Target));
        }

        // The two faces of one image stay one write: the image is a duplicate for that person in the target too.
        var again = await database.AddFacesAsync(Target, "group", [Face(500)], TargetModel, hash, tags);
        Assert.True(again.Duplicate);
        Assert.Equal(2, again.Faces.Count);
        Assert.All(again.Faces, f => Assert.Equal("gate", f.Tags["camera"]));

        // A second migration to the same target is refused before it starts.
        var exists = await Assert.ThrowsAsync<FaceIndexException>(() => jobs.StartMigrationAsync(FaceDatabase.DefaultCollection, new MigrationSpec(Target, TargetModel), face => new FaceCodes(face.Vector, null), null, CancellationToken.None));
        Assert.Equal(FaceIndexError.AlreadyExists, exists.Error);
        await jobs.StopAsync();
    }

    [Fact]
    public async Task A_cancelled_migration_deletes_its_partial_target_and_a_crashed_one_says_to_delete_it()
    {
        using var dir = TestPaths.NewTempDirectory();
        await using (var database = await OpenAsync(dir))
        {
            await EnrollAsync(database, 0, 400);
            var jobs = new BackgroundJobs(() => database, () => 1.0f, NullLogger<BackgroundJobs>.Instance);
            await jobs.StartAsync();
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            BackgroundJob? job = null;
            job = await jobs.StartMigrationAsync(FaceDatabase.DefaultCollection, new MigrationSpec(Target, TargetModel), face => new FaceCodes(face.Vector, null), async (_, ct) =>
            {
                // After the first durable batch: cancel, as a client's CancelOperation does.
                gate.TrySetResult();
                await Task.Delay(50, CancellationToken.None);
            }, CancellationToken.None);
            await gate.Task;
            await job.Cancellation.CancelAsync();
            await WaitAsync(job);
            Assert.Equal(JobState.Cancelled, job.State);
            Assert.Contains("'migrated' was deleted", job.Error, StringComparison.Ordinal);
            Assert.False(database.TryGetCollection(Target, out _));

            // What a kill leaves behind: a migration record still "running".
            var crashed = new BackgroundJob("crashed-migration", FaceDatabase.DefaultCollection, new MigrationSpec("half", TargetModel));
            crashed.Report("copying", 0.3, 120);
            await database.PutBlobAsync(StoredOperation.Key(crashed.Id), crashed.Record().Serialize());
            await jobs.StopAsync();
        }

        await using (var database = await OpenAsync(dir))
        {
            var jobs = new BackgroundJobs(() => database, () => 1.0f, NullLogger<BackgroundJobs>.Instance);
            await jobs.StartAsync();
            Assert.True(jobs.TryGet("crashed-migration", out var restored));
            Assert.Equal(JobKind.Migration, restored.Kind);
            Assert.Equal(new MigrationSpec("half", TargetModel), restored.Migration);
            Assert.Equal(JobState.Failed, restored.State);
            Assert.Equal(120, restored.Count);
            Assert.Contains("collection 'half' holds part of the faces: delete it, then start the migration again", restored.Error, StringComparison.Ordinal);
            await jobs.StopAsync();
        }
    }

    private static FaceVector Negate(FaceVector vector)
    {
        var components = vector.AsSpan().ToArray();
        for (int i = 0; i < components.Length; i++)
        {
            components[i] = (sbyte)-components[i];
        }

        return new FaceVector(components);
    }

    private static async Task WaitAsync(BackgroundJob job)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!job.IsFinished)
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}

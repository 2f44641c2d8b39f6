using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace FaceIndex.Cluster.Tests;

/// <summary>
/// Grain storage shared by every silo of one test process (the role Redis plays between processes):
/// the catalog survives the silo that hosted it. States are deep-copied in and out, as a real store would.
/// </summary>
internal sealed class SharedGrainStorage(DeepCopier copier) : IGrainStorage
{
    private static readonly ConcurrentDictionary<string, (object State, string ETag)> s_states = new(StringComparer.Ordinal);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (s_states.TryGetValue(Key(stateName, grainId), out var entry))
        {
            grainState.State = copier.Copy((T)entry.State);
            grainState.ETag = entry.ETag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = Key(stateName, grainId);
        var etag = Guid.NewGuid().ToString("N");
        object copy = copier.Copy(grainState.State)!;
        s_states.AddOrUpdate(key, _ => (copy, etag), (_, old) =>
            old.ETag == grainState.ETag ? (copy, etag) : throw new InconsistentStateException("ETag mismatch", old.ETag, grainState.ETag));
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        s_states.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    /// <summary>Forgets every state (between test classes; each uses its own cluster id anyway).</summary>
    public static void Clear() => s_states.Clear();

    private static string Key(string stateName, GrainId grainId) => stateName + "/" + grainId.ToString();
}

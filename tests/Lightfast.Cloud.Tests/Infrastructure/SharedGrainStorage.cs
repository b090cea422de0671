using System.Collections.Concurrent;
using Orleans.Serialization;
using Orleans.Storage;

namespace Lightfast.Cloud.Tests.Infrastructure;

/// <summary>
/// Grain storage for the test cluster that outlives its silos (they run in this process): what a grain wrote
/// is still there after the silo that hosted it is stopped and another one activates it. ETags are checked
/// like a real store does. Each test cluster names its own store, so that clusters in one test run share nothing.
/// </summary>
public sealed class SharedGrainStorage(string storeName, DeepCopier copier) : IGrainStorage
{
    private static readonly ConcurrentDictionary<string, ConcurrentDictionary<string, (object State, string ETag)>> Stores = new();
    private static long _version;

    private ConcurrentDictionary<string, (object State, string ETag)> Store { get; } = Stores.GetOrAdd(storeName, _ => new());

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (Store.TryGetValue(Key(stateName, grainId), out var stored))
        {
            grainState.State = copier.Copy((T)stored.State);
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = Key(stateName, grainId);
        var etag = Interlocked.Increment(ref _version).ToString(System.Globalization.CultureInfo.InvariantCulture);
        object copy = copier.Copy(grainState.State)!;
        Store.AddOrUpdate(
            key,
            _ => grainState.ETag is null ? (copy, etag) : throw new InconsistentStateException("record was deleted", "none", grainState.ETag),
            (_, existing) => existing.ETag == grainState.ETag ? (copy, etag) : throw new InconsistentStateException("stale etag", existing.ETag, grainState.ETag ?? "none"));
        grainState.ETag = etag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Store.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static string Key(string stateName, GrainId grainId) => $"{stateName}/{grainId}";
}

using Lightfast.Cloud.Errors;

namespace Lightfast.Cloud.Persistence;

/// <summary>
/// Grain state writes that respect the storage's size limit. <c>AzureTableStorage</c> refuses serialized state past
/// 983,040 bytes (15 properties of 64 KiB) with an <see cref="ArgumentOutOfRangeException"/> ("Data too large to
/// write"), and the table service refuses an entity past 1 MiB (<c>EntityTooLarge</c>; seen on Azurite with state
/// in JSON, before the provider's own check). That is the caller's data outgrowing the store, not a fault of the
/// service, so it becomes <see cref="ErrorCodes.StateTooLarge"/> (409), and the grain's state is read back, so that
/// memory holds what storage holds: nothing half-written, nothing lost.
/// </summary>
public static class StateWrites
{
    /// <summary>How the Orleans storage providers begin the message of their size check.</summary>
    private const string ProviderSizeMessage = "Data too large to write";

    /// <summary>The Azure Storage error codes of a record or request that is too large.</summary>
    private static readonly HashSet<string> ServiceSizeErrors = new(StringComparer.Ordinal) { "EntityTooLarge", "RequestBodyTooLarge" };

    /// <summary>
    /// Writes the state; when the storage refuses it for its size, restores the stored state and throws
    /// <see cref="ErrorCodes.StateTooLarge"/> naming <paramref name="what"/>.
    /// </summary>
    public static async Task WriteOrRejectAsync<T>(this IPersistentState<T> state, string what, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        try
        {
            await state.WriteStateAsync(cancellationToken);
        }
        catch (Exception ex) when (SizeLimitOf(ex) is { } limit)
        {
            await state.ReadStateAsync(cancellationToken);
            throw new ConflictException(
                    ErrorCodes.StateTooLarge,
                    $"{what} has grown past what its grain storage holds in one record, so the change was not saved ({limit}). " +
                    "Grain state on AzureBlobStorage has no such limit.")
                .WithDetail("limit", limit);
        }
    }

    /// <summary>What the storage said when <paramref name="exception"/> (or one it wraps) refuses a record for its size, else null.</summary>
    public static string? SizeLimitOf(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is ArgumentOutOfRangeException refused && refused.Message.StartsWith(ProviderSizeMessage, StringComparison.Ordinal))
            {
                // "Data too large to write to Azure table. Size=983153 MaxSize=983040 (Parameter 'dataSize')...": the sizes.
                return refused.Message.Split(" (Parameter", 2)[0].Split('\n', 2)[0].Trim();
            }

            // Azure.RequestFailedException, matched by its ErrorCode so that the grains need no Azure SDK reference.
            if (current.GetType().GetProperty("ErrorCode")?.GetValue(current) is string code && ServiceSizeErrors.Contains(code))
            {
                return $"{code}: {current.Message.Split('\n', 2)[0].Trim()}";
            }
        }

        return null;
    }
}

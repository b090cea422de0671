using Microsoft.Extensions.AI;

namespace Lightfast.Cloud.Conversations.Providers;

/// <summary>Gives conversations an <see cref="IChatClient"/> for a configured provider.</summary>
public interface IChatClientProvider
{
    /// <summary>The names of the configured providers.</summary>
    IReadOnlyList<string> Providers { get; }

    /// <summary>The provider a conversation uses when it names none, or null when none is configured.</summary>
    string? DefaultProvider { get; }

    /// <summary>
    /// The client and model for <paramref name="provider"/> (null: the default). Throws
    /// <c>AI_PROVIDER_NOT_CONFIGURED</c> when there is no such provider.
    /// </summary>
    (IChatClient Client, string Model, string Provider) GetClient(string? provider, string? model);
}

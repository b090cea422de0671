using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using Anthropic;
using Azure.AI.OpenAI;
using Azure.Identity;
using Lightfast.Cloud.Errors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;

namespace Lightfast.Cloud.Conversations.Providers;

/// <summary>
/// Builds one <see cref="IChatClient"/> per configured provider (OpenAI, Azure OpenAI, Anthropic) through
/// Microsoft.Extensions.AI and caches it. The providers' own clients retry 429/5xx with backoff
/// (<see cref="AiProviderOptions.MaxRetries"/>); nothing else retries on top of them.
/// </summary>
public sealed class ChatClientProvider(IOptions<AiOptions> options) : IChatClientProvider, IDisposable
{
    private readonly ConcurrentDictionary<string, IChatClient> _clients = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<string> Providers => [.. options.Value.Providers.Keys.Order(StringComparer.OrdinalIgnoreCase)];

    public string? DefaultProvider =>
        options.Value.DefaultProvider is { Length: > 0 } name ? name
        : options.Value.Providers.Count == 1 ? options.Value.Providers.Keys.Single()
        : null;

    public (IChatClient Client, string Model, string Provider) GetClient(string? provider, string? model)
    {
        var name = provider ?? DefaultProvider;
        if (name is null || !options.Value.Providers.TryGetValue(name, out var settings))
        {
            var hint = Providers.Count == 0
                ? "no AI provider is configured: set Lightfast:AI:Providers:<name>:Type, :ApiKey and :Model"
                : $"configured: {string.Join(", ", Providers)}";
            throw new AiProviderException(
                ErrorCodes.AiProviderNotConfigured,
                ErrorCategory.Unavailable,
                name,
                name is null
                    ? $"Chat needs an AI provider and {(Providers.Count == 0 ? hint : $"none is the default ({hint}); set Lightfast:AI:DefaultProvider or name one in the conversation")}."
                    : $"AI provider '{name}' is not configured ({hint}).");
        }

        var resolvedModel = model ?? settings.Model
            ?? throw new AiProviderException(ErrorCodes.AiProviderNotConfigured, ErrorCategory.Unavailable, name, $"AI provider '{name}' has no model: set Lightfast:AI:Providers:{name}:Model or give one to the conversation.");
        var client = _clients.GetOrAdd($"{name}\n{resolvedModel}", _ => Create(name, settings, resolvedModel));
        return (client, resolvedModel, name);
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }

    private static IChatClient Create(string name, AiProviderOptions settings, string model) => settings.Type switch
    {
        AiProviderType.OpenAI => CreateOpenAI(settings, settings.Endpoint, Key(name, settings)).GetChatClient(model).AsIChatClient(),
        AiProviderType.AzureOpenAI => CreateAzureOpenAI(name, settings).GetChatClient(model).AsIChatClient(),
        AiProviderType.Anthropic => new AnthropicClient
        {
            ApiKey = Key(name, settings),
            BaseUrl = settings.Endpoint?.ToString().TrimEnd('/') ?? "https://api.anthropic.com",
            MaxRetries = settings.MaxRetries,
            Timeout = settings.Timeout,
        }.AsIChatClient(model, settings.MaxOutputTokens),
        _ => throw new AiProviderException(ErrorCodes.AiProviderNotConfigured, ErrorCategory.Unavailable, name, $"AI provider '{name}' has an unknown type '{settings.Type}'."),
    };

    private static OpenAIClient CreateOpenAI(AiProviderOptions settings, Uri? endpoint, string key) =>
        new(new ApiKeyCredential(key), ClientOptions(settings, endpoint));

    /// <summary>
    /// Azure OpenAI with <c>Azure.AI.OpenAI</c>: an API key when one is configured, otherwise an Entra ID token from
    /// <see cref="DefaultAzureCredential"/> (managed identity in Azure). The model is the deployment name.
    /// </summary>
    private static AzureOpenAIClient CreateAzureOpenAI(string name, AiProviderOptions settings)
    {
        var endpoint = settings.Endpoint
            ?? throw new AiProviderException(ErrorCodes.AiProviderNotConfigured, ErrorCategory.Unavailable, name, $"Azure OpenAI provider '{name}' needs Lightfast:AI:Providers:{name}:Endpoint.");
        var clientOptions = new AzureOpenAIClientOptions
        {
            RetryPolicy = new ClientRetryPolicy(settings.MaxRetries),
            NetworkTimeout = settings.Timeout,
        };
        return string.IsNullOrWhiteSpace(settings.ApiKey)
            ? new AzureOpenAIClient(endpoint, new DefaultAzureCredential(), clientOptions)
            : new AzureOpenAIClient(endpoint, new ApiKeyCredential(settings.ApiKey), clientOptions);
    }

    private static OpenAIClientOptions ClientOptions(AiProviderOptions settings, Uri? endpoint)
    {
        var clientOptions = new OpenAIClientOptions
        {
            RetryPolicy = new ClientRetryPolicy(settings.MaxRetries),
            NetworkTimeout = settings.Timeout,
        };
        if (endpoint is not null)
        {
            clientOptions.Endpoint = endpoint;
        }

        return clientOptions;
    }

    private static string Key(string name, AiProviderOptions settings) =>
        string.IsNullOrWhiteSpace(settings.ApiKey)
            ? throw new AiProviderException(ErrorCodes.AiProviderNotConfigured, ErrorCategory.Unavailable, name, $"AI provider '{name}' has no API key: set Lightfast:AI:Providers:{name}:ApiKey.")
            : settings.ApiKey;
}

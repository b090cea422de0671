using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using Anthropic;
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
    /// <summary>The Entra ID scope of Azure OpenAI.</summary>
    public const string AzureOpenAIScope = "https://cognitiveservices.azure.com/.default";

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
            var configured = Providers.Count == 0 ? "none is configured (set Lightfast:AI:Providers:<name>:Type, :ApiKey and :Model)" : $"configured: {string.Join(", ", Providers)}";
            throw new AiProviderException(
                ErrorCodes.AiProviderNotConfigured,
                ErrorCategory.Unavailable,
                name,
                name is null ? $"No AI provider is configured; {configured}." : $"AI provider '{name}' is not configured; {configured}.");
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
    /// Azure OpenAI through its OpenAI-compatible v1 API (<c>{endpoint}/openai/v1</c>) with the plain OpenAI client:
    /// an API key when one is configured, otherwise an Entra ID token from <see cref="DefaultAzureCredential"/>.
    /// </summary>
    private static OpenAIClient CreateAzureOpenAI(string name, AiProviderOptions settings)
    {
        var resource = settings.Endpoint
            ?? throw new AiProviderException(ErrorCodes.AiProviderNotConfigured, ErrorCategory.Unavailable, name, $"Azure OpenAI provider '{name}' needs Lightfast:AI:Providers:{name}:Endpoint.");
        var endpoint = new Uri(resource.ToString().TrimEnd('/') + "/openai/v1/");
        if (!string.IsNullOrWhiteSpace(settings.ApiKey))
        {
            return CreateOpenAI(settings, endpoint, settings.ApiKey);
        }

        // The token-policy constructor is marked experimental in OpenAI 2.15; it is the documented way to use
        // Entra ID with the v1 API, and the Azure.AI.OpenAI 2.1 client fails against this OpenAI version.
#pragma warning disable OPENAI001
        return new OpenAIClient(new BearerTokenPolicy(new DefaultAzureCredential(), AzureOpenAIScope), ClientOptions(settings, endpoint));
#pragma warning restore OPENAI001
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

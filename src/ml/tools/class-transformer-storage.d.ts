/**
 * class-transformer keeps its `@Type()` metadata in a storage object it does not export from its
 * index; class-validator-jsonschema needs that object to follow nested DTOs (documented usage).
 */
declare module 'class-transformer/cjs/storage.js' {
  export const defaultMetadataStorage: import('class-transformer/types/MetadataStorage').MetadataStorage;
}

export default async function main(): Promise<void> {}

import { MigrationInterface, QueryRunner } from 'typeorm';

export class AuthenticatorModels1796681442039 implements MigrationInterface {
  name = 'AuthenticatorModels1796681442039';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE \`metadata_service\` (\`id\` varchar(16) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`version\` int NOT NULL, \`blob_number\` int NOT NULL, \`next_update\` datetime(3) NOT NULL, \`loaded_at\` datetime(3) NOT NULL, \`entries\` int NOT NULL, PRIMARY KEY (\`id\`)) ENGINE=InnoDB`,
    );
    await queryRunner.query(
      `CREATE TABLE \`authenticator_models\` (\`aaguid\` varchar(36) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`name\` varchar(255) CHARACTER SET "utf8mb4" COLLATE "utf8mb4_bin" NOT NULL, \`certifications\` varchar(255) CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, \`compromised\` tinyint NOT NULL, \`attestation_roots\` text CHARACTER SET "ascii" COLLATE "ascii_bin" NOT NULL, PRIMARY KEY (\`aaguid\`)) ENGINE=InnoDB`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE \`authenticator_models\``);
    await queryRunner.query(`DROP TABLE \`metadata_service\``);
  }
}
